using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

using Snow.Native.Tests;

namespace Snow.Native.Redis.Tests;

/// <summary>
/// A redis-server of the test's own: a free 127.0.0.1 port, a temp directory, no persistence (so a restart is a
/// restart empty), stopped and started again on the same port by the fault tests. Never the system's service.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(20);
    private readonly string _directory = Directory.CreateTempSubdirectory("snow-redis-").FullName;
    private Process? _process;

    /// <summary>Reserves a port; <paramref name="start"/> false leaves Redis down (for the "down at start" test).</summary>
    public RedisServer(bool start = true)
    {
        ExternalTools.Require("redis-server");
        Port = FreePort();
        if (start) Start();
    }

    public int Port { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public void Start()
    {
        if (IsRunning) throw new InvalidOperationException("redis-server is already running");
        var start = new ProcessStartInfo("redis-server")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        foreach (string arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--protected-mode", "no" })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartPatience)
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} (port {Port} taken?)");
            if (TryCommand("PING") == "+PONG") return;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"redis-server did not answer PING on port {Port} within {StartPatience.TotalSeconds} s");
    }

    /// <summary>Kills redis-server at once (no shutdown save: it has no persistence anyway) and waits for it to be gone.</summary>
    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Stops and starts again on the same port: a Redis restarted empty.</summary>
    public void Restart()
    {
        Stop();
        Start();
    }

    /// <summary>Runs one command (RESP inline) and returns the first line of its reply, or null if Redis did not answer.</summary>
    public string? TryCommand(params string[] parts)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.ReceiveTimeout = 2000;
            socket.SendTimeout = 2000;
            socket.Connect(new IPEndPoint(IPAddress.Loopback, Port));
            var command = new StringBuilder($"*{parts.Length}\r\n");
            foreach (string part in parts) command.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
            socket.Send(Encoding.UTF8.GetBytes(command.ToString()));
            var reply = new StringBuilder();
            var buffer = new byte[4096];
            while (true)
            {
                int read = socket.Receive(buffer);
                if (read == 0) break;
                reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (IsComplete(reply.ToString())) break;
            }
            return reply.ToString().Split("\r\n")[0];
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>How many clients are subscribed to <paramref name="channel"/>: PUBSUB NUMSUB.</summary>
    public int Subscribers(string channel)
    {
        string? reply = TryFullReply("PUBSUB", "NUMSUB", channel);
        if (reply is null) return -1;
        // *2\r\n$len\r\nchannel\r\n:N\r\n: the count is the fourth line
        string[] lines = reply.Split("\r\n");
        return int.Parse(lines[3].TrimStart(':'), System.Globalization.CultureInfo.InvariantCulture);
    }

    private string? TryFullReply(params string[] parts)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.ReceiveTimeout = 2000;
            socket.Connect(new IPEndPoint(IPAddress.Loopback, Port));
            var command = new StringBuilder($"*{parts.Length}\r\n");
            foreach (string part in parts) command.Append($"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
            socket.Send(Encoding.UTF8.GetBytes(command.ToString()));
            var reply = new StringBuilder();
            var buffer = new byte[4096];
            while (!IsComplete(reply.ToString()))
            {
                int read = socket.Receive(buffer);
                if (read == 0) break;
                reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
            return reply.ToString();
        }
        catch (SocketException)
        {
            return null;
        }
    }

    // Enough for the replies these tests read: a simple line, or NUMSUB's two-element array.
    private static bool IsComplete(string reply) =>
        reply.Length > 0 && (reply[0] != '*' ? reply.EndsWith("\r\n", StringComparison.Ordinal) : reply.Split("\r\n").Length >= 5);

    public void Dispose()
    {
        Stop();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
