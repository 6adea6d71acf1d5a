using System.Net.Http;
using Snow.Native.Server;
using Snow.Native.Testing;

namespace Snow.Native;

// The test client: an HttpClient whose requests go through the app's real HTTP/1.1 protocol over in-process
// connections, as ASP.NET Core's TestServer does for Kestrel.
public sealed partial class SnowApp
{
    private int _nextTestLoop = -1;

    /// <summary>
    /// An <see cref="HttpClient"/> (base address http://localhost/) whose requests this app serves with its real
    /// HTTP/1.1 protocol over in-process connections: no port, no socket. Starts the app without listening if it
    /// is not running yet (a started app serves these beside its sockets). Each request has a connection of its own,
    /// closed once its response is read; the response's content streams as the body arrives. Dispose the app to stop it.
    /// </summary>
    public HttpClient CreateTestClient() => new(CreateTestHandler()) { BaseAddress = TestRequestWriter.BaseAddress };

    /// <summary>The handler behind <see cref="CreateTestClient"/>, to put under other handlers or into an HttpClient factory.</summary>
    public HttpMessageHandler CreateTestHandler()
    {
        lock (_lifecycle)
        {
            if (_stopped is null) StartCore([]);
            else if (_stopped.Task.IsCompleted) throw new InvalidOperationException("This SnowApp has stopped; make a new one.");
        }
        return new SnowTestHandler(this);
    }

    /// <summary>The loop for the test client's next connection, in turn.</summary>
    internal LoopContext NextTestLoop()
    {
        LoopContext[] contexts = _contexts;
        if (!IsRunning || contexts.Length == 0) throw new InvalidOperationException("This SnowApp has stopped; make a new one.");
        return contexts[(int)((uint)Interlocked.Increment(ref _nextTestLoop) % (uint)contexts.Length)];
    }
}
