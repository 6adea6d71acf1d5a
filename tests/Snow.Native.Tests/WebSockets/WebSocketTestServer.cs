using System.Diagnostics;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.WebSockets;

/// <summary>The routes the real-client tests talk to, and a bounded way to run an external client.</summary>
internal static class WebSocketTestServer
{
    public static RunningServer Start(Snow.Native.PollerKind poller, params Route[] extra)
    {
        var options = new WebSocketOptions { SubProtocols = { "chat.v2", "chat.v1" }, EnableCompression = true };
        var routes = new List<Route>
        {
            ("^/ws/echo$", r => r.AcceptWebSocket(WsSession.Echo, options)),
            ("^/ws/callback$", r => r.AcceptWebSocket((ws, m) => ws.Send(m.Data.Span, m.Kind))),
            ("^/ws/close$", r => r.AcceptWebSocket(async ws =>
            {
                WebSocketMessage message = await ws.ReceiveAsync();
                await ws.CloseAsync(4000, "closing: " + message.Text);
            })),
            ("^/ws/small$", r => r.AcceptWebSocket(WsSession.Echo, new WebSocketOptions { MaxMessageBytes = 1000 })),
        };
        routes.AddRange(extra);
        return new RunningServer(routes, poller);
    }

    /// <summary>Runs a program to its end within <paramref name="timeout"/> (killed otherwise); its exit code and output.</summary>
    public static (int ExitCode, string Output, string Errors) Run(string program, IEnumerable<string> arguments, TimeSpan timeout,
        IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, output.Result, "killed after " + timeout + "\n" + errors.Result);
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result, errors.Result);
    }

    /// <summary>Debian's python3 (pyenv's shim in front of it does not see Debian's modules).</summary>
    public static string Python => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}
