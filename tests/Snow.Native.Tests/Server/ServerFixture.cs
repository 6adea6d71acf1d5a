using System.Net;
using Snow.Native.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>Starts a <see cref="SnowApp"/> on 127.0.0.1 port 0 with a chosen poller, and stops it afterwards.</summary>
internal sealed class RunningServer : IDisposable
{
    public RunningServer(IEnumerable<Route> routes, PollerKind poller, Action<SnowOptions>? configure = null, int loops = 1)
    {
        // Tests stop at once unless they test the graceful stop: parked requests would otherwise hold each Dispose.
        var options = new SnowOptions { Poller = poller, Loops = loops, ShutdownTimeout = TimeSpan.Zero };
        configure?.Invoke(options);
        App = new SnowApp(routes, options);
        App.Start("127.0.0.1", 0);
    }

    public SnowApp App { get; }

    public IPEndPoint EndPoint => App.LocalEndPoint!;

    public Uri Url(string path) => new($"http://127.0.0.1:{EndPoint.Port}{path}");

    public TestClient Connect(TimeSpan? timeout = null) => new(EndPoint, timeout);

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }

    public void Dispose() => App.Dispose();
}
