using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Snow.Native.Polling;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// The WebSocket measurements of scripts/bench.sh, one per run:
///   echo:      round trips per second over N connections, one message in flight on each (--seconds, --size);
///   idle:      the server's RSS per idle WebSocket at N (after a warm-up), from /proc/PID/status;
///   broadcast: N subscribers (--path), then --rounds times: ask --publish-path to publish one message and time
///              until every subscriber has it; the median and the worst.
/// Output: key=value lines, like the connection test.
/// </summary>
internal static class WebSocketLoad
{
    public const string Usage =
        "usage: Snow.Native.ConnectionTest websocket echo|idle|broadcast --url http://127.0.0.1:8080 [--path /ws/]\n" +
        "       [--connections N] [--seconds 5] [--size 32] [--pid SERVER_PID] [--publish-path /publish/] [--rounds 5]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0) return UsageError("which measurement?");
        string mode = args[0];
        var options = new Dictionary<string, string>();
        for (int i = 1; i + 1 < args.Length; i += 2) options[args[i]] = args[i + 1];
        if (!options.TryGetValue("--url", out string? urlText) || !Uri.TryCreate(urlText, UriKind.Absolute, out Uri? url)) return UsageError("--url is required");
        string path = options.GetValueOrDefault("--path", "/ws/");
        int connections = Int(options, "--connections", 64);
        var report = new Report();
        IPEndPoint server = new((await Dns.GetHostAddressesAsync(url.Host)).First(a => a.AddressFamily == AddressFamily.InterNetwork), url.Port);
        using var overall = new CancellationTokenSource(TimeSpan.FromSeconds(Int(options, "--timeout-seconds", 150)));
        try
        {
            switch (mode)
            {
                case "echo":
                    await EchoAsync(server, url.Authority, path, connections, TimeSpan.FromSeconds(Int(options, "--seconds", 5)),
                        Int(options, "--size", 32), report, overall.Token);
                    break;
                case "idle":
                    await IdleAsync(server, url.Authority, path, connections, Int(options, "--pid", 0), report, overall.Token);
                    break;
                case "broadcast":
                    await BroadcastAsync(server, url.Authority, path, options.GetValueOrDefault("--publish-path", "/publish/"), connections,
                        Int(options, "--rounds", 5), report, overall.Token);
                    break;
                default:
                    return UsageError($"unknown measurement {mode}");
            }
        }
        catch (OperationCanceledException) when (overall.IsCancellationRequested)
        {
            report.Add("timed_out", 1);
            report.WriteTo(Console.Out);
            return 2;
        }
        catch (Exception error) when (error is IOException or SocketException)
        {
            report.Add("failure", $"{error.GetType().Name}: {error.Message}".ReplaceLineEndings(" "));
            report.WriteTo(Console.Out);
            return 3;
        }
        report.WriteTo(Console.Out);
        return 0;
    }

    private static async Task EchoAsync(IPEndPoint server, string host, string path, int connections, TimeSpan duration, int size,
        Report report, CancellationToken cancellation)
    {
        List<WebSocketClient> clients = await OpenAsync(server, host, path, connections, cancellation);
        byte[] frame = WebSocketClient.Frame(2, new byte[size]);
        try
        {
            // One thread on the OS's own poller drives every connection (as the connection test reads its parked
            // responses): async sockets on a thread pool would make the client, not the server, the bottleneck.
            using IPoller poller = PollerFactory.Create(PollerFactory.PlatformDefault);
            for (int i = 0; i < clients.Count; i++)
            {
                clients[i].MakeNonBlocking();
                poller.Register(clients[i].Descriptor, PollInterest.Read, i);
            }
            var events = new PollEvent[1024];
            foreach (WebSocketClient client in clients) client.SendNow(frame);
            // A warm-up second, then the measured run; one message stays in flight on every connection.
            foreach (var (length, measured) in new[] { (TimeSpan.FromSeconds(1), false), (duration, true) })
            {
                long done = 0;
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < length)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int count = poller.Wait(events, 0);
                    for (int e = 0; e < count; e++)
                    {
                        WebSocketClient client = clients[(int)events[e].Token];
                        int frames = client.ReceiveNow();
                        for (int f = 0; f < frames; f++) client.SendNow(frame);
                        done += frames;
                    }
                }
                if (measured)
                {
                    report.Add("echo_seconds", Math.Round(clock.Elapsed.TotalSeconds, 2).ToString(CultureInfo.InvariantCulture));
                    report.Add("echo_round_trips", done);
                    report.Add("echo_round_trips_per_s", (long)(done / clock.Elapsed.TotalSeconds));
                }
            }
            report.Add("echo_connections", clients.Count);
            report.Add("echo_message_bytes", size);
        }
        finally
        {
            foreach (WebSocketClient client in clients) client.Dispose();
        }
    }

    private static async Task IdleAsync(IPEndPoint server, string host, string path, int connections, int processId, Report report,
        CancellationToken cancellation)
    {
        if (processId <= 0) throw new IOException("--pid is required for the idle measurement");
        var memory = new ResidentMemory([processId]);
        for (int round = 0; round < 3; round++)
        {
            List<WebSocketClient> warm = await OpenAsync(server, host, path, 64, cancellation);
            byte[] frame = WebSocketClient.Frame(2, new byte[32]);
            foreach (WebSocketClient client in warm)
            {
                for (int i = 0; i < 40; i++)
                {
                    await client.SendAsync(frame, cancellation);
                    await client.ReceiveFrameAsync(cancellation);
                }
            }
            foreach (WebSocketClient client in warm) client.Dispose();
            await Task.Delay(500, cancellation);
        }
        long before = await memory.WaitUntilSettledAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), cancellation);
        List<WebSocketClient> clients = await OpenAsync(server, host, path, connections, cancellation);
        try
        {
            long after = await memory.WaitUntilSettledAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15), cancellation);
            report.Add("ws_rss_before_bytes", before);
            report.Add("ws_rss_after_bytes", after);
            report.Add("ws_idle_connections", clients.Count);
            report.Add("ws_idle_rss_per_conn_bytes", (after - before) / Math.Max(1, clients.Count));
        }
        finally
        {
            foreach (WebSocketClient client in clients) client.Dispose();
        }
    }

    private static async Task BroadcastAsync(IPEndPoint server, string host, string path, string publishPath, int connections, int rounds,
        Report report, CancellationToken cancellation)
    {
        List<WebSocketClient> clients = await OpenAsync(server, host, path, connections, cancellation);
        try
        {
            var times = new List<double>();
            using IPoller poller = PollerFactory.Create(PollerFactory.PlatformDefault);
            for (int i = 0; i < clients.Count; i++)
            {
                clients[i].MakeNonBlocking();
                poller.Register(clients[i].Descriptor, PollInterest.Read, i);
            }
            var events = new PollEvent[1024];
            for (int round = -1; round < rounds; round++)
            {
                // Subscriptions are made on the server's loop after the 101: the warm-up round (-1) waits for them.
                Task publish = PublishAsync(server, host, publishPath, waitForSubscribers: round < 0 ? connections : 0, cancellation);
                long start = Stopwatch.GetTimestamp();
                int remaining = clients.Count;
                while (remaining > 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int count = poller.Wait(events, 0);
                    for (int e = 0; e < count; e++) remaining -= clients[(int)events[e].Token].ReceiveNow();
                }
                if (round >= 0) times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                await publish.ConfigureAwait(false);
                await Task.Delay(200, cancellation).ConfigureAwait(false);
            }
            times.Sort();
            report.Add("broadcast_subscribers", clients.Count);
            report.Add("broadcast_median_ms", Math.Round(times[times.Count / 2], 1).ToString(CultureInfo.InvariantCulture));
            report.Add("broadcast_max_ms", Math.Round(times[^1], 1).ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            foreach (WebSocketClient client in clients) client.Dispose();
        }
    }

    /// <summary>GET publishPath (?subscribers=N: the server answers once N are subscribed, then publishes).</summary>
    private static async Task PublishAsync(IPEndPoint server, string host, string publishPath, int waitForSubscribers, CancellationToken cancellation)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellation).ConfigureAwait(false);
        string query = waitForSubscribers > 0 ? $"?subscribers={waitForSubscribers}" : "";
        byte[] request = System.Text.Encoding.ASCII.GetBytes($"GET {publishPath}{query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, cancellation).ConfigureAwait(false);
        var buffer = new byte[1024];
        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellation).ConfigureAwait(false);
        string status = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Split('\r')[0];
        if (!status.Contains(" 200", StringComparison.Ordinal)) throw new IOException($"publish answered {status}");
    }

    private static async Task<List<WebSocketClient>> OpenAsync(IPEndPoint server, string host, string path, int count, CancellationToken cancellation)
    {
        var clients = new List<WebSocketClient>(count);
        using var gate = new SemaphoreSlim(64);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                return await WebSocketClient.ConnectAsync(server, host, path, cancellation).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        try
        {
            clients.AddRange(await Task.WhenAll(tasks).ConfigureAwait(false));
        }
        catch
        {
            foreach (var task in tasks.Where(t => t.IsCompletedSuccessfully)) task.Result.Dispose();
            throw;
        }
        return clients;
    }

    private static int Int(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static int UsageError(string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.WriteLine(Usage);
        return 64;
    }
}
