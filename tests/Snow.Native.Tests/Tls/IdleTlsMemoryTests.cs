using System.Diagnostics;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>
/// An idle keep-alive TLS connection holds no TLS buffer with the OpenSSL engine: the native heap this process
/// uses grows by about 15 KB per idle connection (the session's state), where a session that kept its read and
/// write buffers takes about 50 KB. The clients are another process (Python's ssl), so that their sessions are
/// not counted. Once per poller.
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class IdleTlsMemoryTests(PollerKind poller)
{
    private const int Connections = 150;

    private const string Client = """
        import socket, ssl, sys
        port, count = int(sys.argv[1]), int(sys.argv[2])
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        sessions = []
        for _ in range(count):
            s = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="localhost")
            s.sendall(b"GET /index/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = b""
            while not answer.endswith(b"\r\n\r\nOK"):
                chunk = s.recv(4096)
                if not chunk:
                    sys.exit("closed early")
                answer += chunk
            sessions.append(s)
        print("idle", flush=True)
        sys.stdin.readline()
        """;

    [Test]
    public void AnIdleOpenSslConnectionHoldsNoRecordBuffer()
    {
        if (!OperatingSystem.IsLinux() || !Snow.Native.Interop.Libraries.HasOpenSsl3()) Assert.Ignore("the OpenSSL engine exists on Linux with OpenSSL 3 only");
        ExternalTools.Require("python3");
        using var server = new HttpsServer([("^/index/$", _ => new HttpResponse("OK"))], poller, TlsEngine.OpenSsl);
        // The growth from a first batch of idle connections to a second one beside it: what the heap held before
        // (earlier tests, OpenSSL's one-time allocations) is in both measurements.
        long before = 0, after = 0;
        RunClients(server.Port, Connections, () =>
        {
            Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == Connections), Is.True);
            before = NativeHeapInUse();
            RunClients(server.Port, Connections, () =>
            {
                Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 2 * Connections), Is.True);
                after = NativeHeapInUse();
            });
        });
        long perConnection = (after - before) / Connections;
        TestContext.Out.WriteLine($"native heap per idle TLS connection: {perConnection} B");
        // A session that kept its record buffers would hold two of about 17 KiB each beside its state (~15 KiB):
        // about 50 KB per connection, as the SslStream engine's sessions do.
        Assert.That(perConnection, Is.LessThan(32 * 1024), "an idle session keeps its record buffers");
    }

    private static void RunClients(int port, int count, Action whileIdle)
    {
        string script = Path.Combine(Path.GetTempPath(), $"snow-idle-tls-{Environment.ProcessId}.py");
        File.WriteAllText(script, Client);
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using Process client = Process.Start(start)!;
        try
        {
            Task<string?> ready = client.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result != "idle")
            {
                client.Kill(entireProcessTree: true);
                Assert.Fail($"the clients did not get their answers: {client.StandardError.ReadToEnd()}");
            }
            whileIdle();
        }
        finally
        {
            client.StandardInput.Close();
            if (!client.WaitForExit(20_000)) client.Kill(entireProcessTree: true);
            File.Delete(script);
        }
    }

    /// <summary>The native heap in use after a full collection (finalizers may free native memory).</summary>
    private static long NativeHeapInUse()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Snow.Native.Interop.Libc.NativeHeapInUse() ?? throw new IgnoreException("malloc_info is not available (not glibc)");
    }
}
