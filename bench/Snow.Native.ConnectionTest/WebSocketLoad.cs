using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Snow.Native.Polling;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// The WebSocket measurements of scripts/bench.sh, one per run:
///   echo:      round trips per second over N connections, one message in flight on each (--seconds, --size);
///   idle:      the server's RSS per idle WebSocket at N (after a warm-up), from /proc/PID/status, each reading after
///              a full collection in the server (--gc-path, /gc/ by default; "none" for none), and its live managed
///              bytes per connection from that collection's answer;
///   broadcast: N subscribers (--path), then --rounds times: ask --publish-path to publish one message (over a
///              keep-alive connection opened beforehand) and time from sending that request until every subscriber
///              has its frame; the median and the worst, and beside them the server's own figure from its answer.
/// Output: key=value lines, like the connection test.
/// </summary>
internal static class WebSocketLoad
{
    public const string Usage =
        "usage: Snow.Native.ConnectionTest websocket echo|idle|broadcast --url http://127.0.0.1:8080 [--path /ws/]\n" +
        "       [--connections N] [--seconds 5] [--size 32] [--pid SERVER_PID] [--gc-path /gc/|none] [--hold-seconds 0] [--publish-path /publish/] [--rounds 5]";

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
                    await IdleAsync(server, url.Authority, path, connections, Int(options, "--pid", 0), options.GetValueOrDefault("--gc-path", "/gc/"),
                        Int(options, "--hold-seconds", 0), report, overall.Token);
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
        List<WebSocketClient> clients = OpenBlocking(server, host, path, connections, cancellation);
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

    private static async Task IdleAsync(IPEndPoint server, string host, string path, int connections, int processId, string gcPath,
        int holdSeconds, Report report, CancellationToken cancellation)
    {
        if (processId <= 0) throw new IOException("--pid is required for the idle measurement");
        var memory = new ResidentMemory([processId]);
        // The warm-up does what the measured phase does (as many upgrades, left idle for a few heartbeats, a full
        // collection), then two smaller rounds with messages, with pauses for the JIT's tiering: its final code (and
        // the JIT's own memory) is a one-time cost, not per connection, and would otherwise land in the measured phase.
        // Either server's tables keep the size they grew to (capacity).
        for (int round = 0; round < 3; round++)
        {
            List<WebSocketClient> warm = await OpenAsync(server, host, path, round == 0 ? connections : 1000, cancellation);
            byte[] frame = WebSocketClient.Frame(2, new byte[32]);
            for (int c = 0; c < warm.Count; c++)
            {
                for (int i = 0; i < (c < 64 ? 40 : 1); i++)
                {
                    await warm[c].SendAsync(frame, cancellation);
                    await warm[c].ReceiveFrameAsync(cancellation);
                }
            }
            if (round == 0)
            {
                // As the measured phase will: idle for a few of the server's heartbeats, then a full collection.
                await Task.Delay(3000, cancellation);
                await FullCollectionAsync(server, host, gcPath, cancellation);
            }
            foreach (WebSocketClient client in warm) client.Dispose();
            await Task.Delay(1000, cancellation);
        }
        // Both readings follow a full collection in the server (gcPath), so that what is counted is held, not garbage
        // (the handshakes' leftovers, the warm-up's) that the GC has not come to yet.
        var (heapBefore, committedBefore) = await FullCollectionAsync(server, host, gcPath, cancellation);
        long before = await memory.WaitUntilSettledAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), cancellation);
        if (holdSeconds > 0)
        {
            Console.Error.WriteLine("warmed up; opening the idle WebSockets in 3 s");
            await Task.Delay(TimeSpan.FromSeconds(3), cancellation);
        }
        List<WebSocketClient> clients = await OpenAsync(server, host, path, connections, cancellation);
        try
        {
            await memory.WaitUntilSettledAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15), cancellation);
            var (heapAfter, committedAfter) = await FullCollectionAsync(server, host, gcPath, cancellation);
            long after = await memory.WaitUntilSettledAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), cancellation);
            report.Add("ws_rss_before_bytes", before);
            report.Add("ws_rss_after_bytes", after);
            report.Add("ws_idle_connections", clients.Count);
            report.Add("ws_idle_rss_per_conn_bytes", (after - before) / Math.Max(1, clients.Count));
            if (heapBefore is double heap0 && heapAfter is double heap1)
            {
                report.Add("ws_idle_heap_per_conn_bytes", (long)((heap1 - heap0) / Math.Max(1, clients.Count)));
            }
            if (committedBefore is double committed0 && committedAfter is double committed1)
            {
                report.Add("ws_idle_gc_committed_per_conn_bytes", (long)((committed1 - committed0) / Math.Max(1, clients.Count)));
            }
            report.Add("ws_idle_after_full_gc", gcPath == "none" ? 0 : 1);
            if (holdSeconds > 0)
            {
                // For a heap dump of the server with the connections open (see bench/README.md).
                Console.Error.WriteLine($"holding {clients.Count} idle WebSockets for {holdSeconds} s");
                await Task.Delay(TimeSpan.FromSeconds(holdSeconds), cancellation);
            }
        }
        finally
        {
            foreach (WebSocketClient client in clients) client.Dispose();
        }
    }

    /// <summary>GET gcPath (a full collection in the server, see the bench servers' /gc/); its heap_bytes and committed_bytes.</summary>
    private static async Task<(double? Heap, double? Committed)> FullCollectionAsync(IPEndPoint server, string host, string gcPath, CancellationToken cancellation)
    {
        if (gcPath == "none") return (null, null);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000 };
        await socket.ConnectAsync(server, cancellation).ConfigureAwait(false);
        socket.Send(System.Text.Encoding.ASCII.GetBytes($"GET {gcPath} HTTP/1.1\r\nHost: {host}\r\n\r\n"));
        string answer = ReadPublishAnswer(socket, new byte[4096]);
        return (AnswerValue(answer, "heap_bytes"), AnswerValue(answer, "committed_bytes"));
    }

    private static async Task BroadcastAsync(IPEndPoint server, string host, string path, string publishPath, int connections, int rounds,
        Report report, CancellationToken cancellation)
    {
        List<WebSocketClient> clients = OpenBlocking(server, host, path, connections, cancellation);
        // The publish requests go over one keep-alive connection opened beforehand: a round times the request and
        // the delivery, not a TCP connect or a thread-pool hop on the client's core.
        using var publisher = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 60_000 };
        publisher.Connect(server);
        try
        {
            var times = new List<double>();
            var serverTimes = new List<double>();
            var pauses = new List<double>();
            using IPoller poller = PollerFactory.Create(PollerFactory.PlatformDefault);
            for (int i = 0; i < clients.Count; i++)
            {
                clients[i].MakeNonBlocking();
                poller.Register(clients[i].Descriptor, PollInterest.Read, i);
            }
            // One wait can report every subscriber: the client reads in batches as large as the server sends.
            var events = new PollEvent[clients.Count];
            byte[] warmUpRequest = PublishRequest(publishPath, host, connections);
            byte[] request = PublishRequest(publishPath, host, 0);
            var responseBuffer = new byte[4096];
            long allocated = 0;
            for (int round = -1; round < rounds; round++)
            {
                // Subscriptions are made on the server's loop after the 101: the warm-up round (-1) waits for them.
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                if (publisher.Send(round < 0 ? warmUpRequest : request) <= 0) throw new IOException("the publish request was not sent");
                int remaining = clients.Count;
                while (remaining > 0)
                {
                    cancellation.ThrowIfCancellationRequested();
                    int count = poller.Wait(events, 100);
                    for (int e = 0; e < count; e++) remaining -= clients[(int)events[e].Token].ReceiveNow();
                }
                double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (round >= 0) allocated += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                string answer = ReadPublishAnswer(publisher, responseBuffer);
                if (round < 0) continue;
                times.Add(elapsed);
                if (AnswerValue(answer, "server_us") is double serverMicroseconds) serverTimes.Add(serverMicroseconds / 1000);
                if (AnswerValue(answer, "gc_pause_us") is double pauseMicroseconds) pauses.Add(pauseMicroseconds / 1000);
                await Task.Delay(200, cancellation).ConfigureAwait(false);
            }
            report.Add("broadcast_subscribers", clients.Count);
            report.Add("broadcast_rounds_ms", string.Join(",", times.Select(t => t.ToString("0.0", CultureInfo.InvariantCulture))));
            report.Add("broadcast_median_ms", Median(times));
            report.Add("broadcast_max_ms", Math.Round(times.Max(), 1));
            if (serverTimes.Count > 0)
            {
                report.Add("broadcast_server_rounds_ms", string.Join(",", serverTimes.Select(t => t.ToString("0.0", CultureInfo.InvariantCulture))));
                report.Add("broadcast_server_median_ms", Median(serverTimes));
                report.Add("broadcast_server_max_ms", Math.Round(serverTimes.Max(), 1));
            }
            if (pauses.Count > 0) report.Add("broadcast_server_gc_pause_max_ms", Math.Round(pauses.Max(), 1));
            report.Add("broadcast_client_allocated_bytes", allocated);
        }
        finally
        {
            foreach (WebSocketClient client in clients) client.Dispose();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return Math.Round(sorted[sorted.Count / 2], 1);
    }

    /// <summary>GET publishPath, keep-alive (?subscribers=N: the server answers once N are subscribed, then publishes).</summary>
    private static byte[] PublishRequest(string publishPath, string host, int waitForSubscribers)
    {
        string query = waitForSubscribers > 0 ? $"?subscribers={waitForSubscribers}" : "";
        return System.Text.Encoding.ASCII.GetBytes($"GET {publishPath}{query} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    }

    /// <summary>Reads one whole response (its head and a Content-Length body) off the blocking socket; its body.</summary>
    private static string ReadPublishAnswer(Socket socket, byte[] buffer)
    {
        int length = 0;
        while (true)
        {
            int head = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (head >= 0)
            {
                string headText = System.Text.Encoding.ASCII.GetString(buffer, 0, head);
                string status = headText.Split('\r')[0];
                if (!status.Contains(" 200", StringComparison.Ordinal)) throw new IOException($"publish answered {status}");
                string? contentLength = headText.Split("\r\n").FirstOrDefault(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
                int bodyLength = contentLength is null ? 0 : int.Parse(contentLength["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
                if (length >= head + 4 + bodyLength) return System.Text.Encoding.ASCII.GetString(buffer, head + 4, bodyLength);
            }
            if (length == buffer.Length) throw new IOException("the publish answer is larger than expected");
            int read = socket.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (read == 0) throw new IOException("the server closed the publish connection");
            length += read;
        }
    }

    /// <summary>The number after "key=" in a publish answer ("subscribers=N server_us=T gc_pause_us=P"), if there.</summary>
    private static double? AnswerValue(string answer, string key)
    {
        foreach (string part in answer.Split(' '))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal) &&
                double.TryParse(part.AsSpan(key.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        }
        return null;
    }

    /// <summary>Opens <paramref name="count"/> WebSockets one after another with blocking calls (see <see cref="WebSocketClient.Connect"/>).</summary>
    private static List<WebSocketClient> OpenBlocking(IPEndPoint server, string host, string path, int count, CancellationToken cancellation)
    {
        var clients = new List<WebSocketClient>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                clients.Add(WebSocketClient.Connect(server, host, path));
            }
        }
        catch
        {
            foreach (WebSocketClient client in clients) client.Dispose();
            throw;
        }
        return clients;
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
