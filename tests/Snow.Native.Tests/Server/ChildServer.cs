using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Snow.Native.Tests.Server;

/// <summary>
/// The bench server in a child process. Scale tests need one: 10,000 client sockets and the server's 10,000 would
/// not fit together under the 20,000 open-file limit of one process.
/// </summary>
internal sealed partial class ChildServer : IDisposable
{
    private readonly Process _process;

    private readonly System.Text.StringBuilder _errors = new();

    public ChildServer(string poller, params string[] extraArguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Snow.Native.BenchServer.dll");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "exec", dll, "--port", "0", "--loops", "1", "--poller", poller }.Concat(extraArguments)) start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the bench server");
        // Drain standard error so that a chatty child can never block on a full pipe.
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_errors) _errors.AppendLine(e.Data);
        };
        _process.BeginErrorReadLine();
        string? line = _process.StandardOutput.ReadLine();
        Match match = line is null ? Match.Empty : ListeningLine().Match(line);
        if (!match.Success)
        {
            _process.WaitForExit(5000);
            Dispose();
            throw new InvalidOperationException($"the bench server did not start: {line} {Errors}");
        }
        EndPoint = new IPEndPoint(IPAddress.Loopback, int.Parse(match.Groups[1].Value));
    }

    public IPEndPoint EndPoint { get; }

    public Process Process => _process;

    public TestClient Connect(TimeSpan? timeout = null) => new(EndPoint, timeout);

    public string Errors
    {
        get
        {
            lock (_errors) return _errors.ToString();
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        finally
        {
            _process.Dispose();
        }
    }

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+)/")]
    private static partial Regex ListeningLine();
}
