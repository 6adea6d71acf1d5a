using System.Diagnostics;
using Snow.Native.ConnectionTest;
using Snow.Native.Interop;

// Exit codes: 0 all measured without errors, 1 measured with errors, 2 timed out, 3 could not measure, 64 usage.
if (args.Length > 0 && args[0] == "websocket")
{
    Libc.RaiseOpenFileLimit(20_000);
    return await WebSocketLoad.RunAsync(args[1..]);
}
TestOptions options;
try
{
    options = TestOptions.Parse(args);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine(TestOptions.Usage);
    return 64;
}

var report = new Report();
report.Add("server_url", string.Join(' ', options.Urls));
report.Add("server_pid", string.Join(' ', options.ServerProcessIds));
report.Add("connections_requested", options.Connections);

// .NET raises the soft open-file limit to the hard one when it starts; this records whether it did here, and
// raises it through native-interop if it did not. Warm-up, release and a little slack come on top of N.
string softAtStart = OpenFileLimitFromProc();
ulong needed = (ulong)(options.Connections + options.WarmupConnections + 64);
report.Add("nofile_soft_at_start", softAtStart);
try
{
    ulong soft = Libc.RaiseOpenFileLimit(needed);
    report.Add("nofile_soft", (long)soft);
    report.Add("nofile_hard", (long)Libc.GetOpenFileLimit().Maximum);
    if (soft < needed) Console.Error.WriteLine($"warning: open-file limit {soft} is below the {needed} this test needs");
}
catch (Exception error) when (error is not OutOfMemoryException)
{
    Console.Error.WriteLine($"warning: could not raise the open-file limit: {error.Message}");
}

var elapsed = Stopwatch.StartNew();
using var overall = new CancellationTokenSource(options.Timeout);
var test = new ConnectionScaleTest(options, report, Console.Error);
int exitCode;
try
{
    await test.RunAsync(overall.Token);
    report.Add("timed_out", 0);
    exitCode = test.Errors == 0 ? 0 : 1;
}
catch (OperationCanceledException) when (overall.IsCancellationRequested)
{
    report.Add("timed_out", 1);
    exitCode = 2;
}
catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
{
    // Typically the server died (no /proc/PID/status) or refused the release connection.
    report.Add("failure", $"{error.GetType().Name}: {error.Message}".ReplaceLineEndings(" "));
    exitCode = 3;
}
test.ReportErrors();
report.Add("elapsed_ms", Math.Round(elapsed.Elapsed.TotalMilliseconds));
report.WriteTo(Console.Out);
return exitCode;

static string OpenFileLimitFromProc()
{
    // "Max open files            20000                20000                files"
    string? line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
    return line is null ? "unknown" : line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
}
