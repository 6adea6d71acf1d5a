using System.Net.WebSockets;
using Snow.Native.Http1;
using Snow.Native.WebSockets;

namespace Snow.Native.BenchServer;

/// <summary>
/// The WebSocket endpoints of the bench server: /ws/ (an echo on Snow.Native's codec, an async session),
/// /ws-callback/ (the same echo in the callback style: no session state machine per connection), /ws-managed/ (the same echo
/// on System.Net.WebSockets over <see cref="LoopStream"/>, for the codec comparison), /ws-sub/ (subscribes to the
/// "bench" topic) and /publish/ (publishes one message to it; ?subscribers=N first waits, bounded, for N; answers
/// "subscribers=N server_us=T gc_pause_us=P", the server's own time for the publish).
/// </summary>
internal static class WebSocketEndpoints
{
    private static readonly WebSocketTopics Topics = new();
    private static readonly byte[] Broadcast = "broadcast"u8.ToArray();

    public static Route[] Routes =>
    [
        new Route("^/ws/$", request => request.AcceptWebSocket(Echo)),
        new Route("^/ws-callback/$", request => request.AcceptWebSocket(static (ws, message) => ws.Send(message.Data.Span, message.Kind))),
        new Route("^/ws-managed/$", ManagedEcho),
        new Route("^/ws-sub/$", request => request.AcceptWebSocket(async ws =>
        {
            Topics.Subscribe(ws, "bench");
            while (!(await ws.ReceiveAsync()).IsClose)
            {
            }
        })),
        new Route("^/publish/$", Publish),
        new Route("^/gc/$", _ => new HttpResponse(FullCollection(), 200, "text/plain")),
    ];

    /// <summary>
    /// /gc/: a full, compacting, blocking collection (twice, finalizers between), so that the idle measurement reads
    /// held memory and not garbage not yet collected; answers "heap_bytes=B committed_bytes=C rss_bytes=R" after it (the managed heap's
    /// live bytes, what the GC holds committed, and the process's resident set, all after the collection). Both bench servers have it alike.
    /// </summary>
    internal static string FullCollection()
    {
        for (int i = 0; i < 2; i++)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return FormattableString.Invariant($"heap_bytes={GC.GetTotalMemory(false)} committed_bytes={GC.GetGCMemoryInfo().TotalCommittedBytes} rss_bytes={Environment.WorkingSet}");
    }

    private static async Task Echo(WebSocketConnection ws)
    {
        while (true)
        {
            WebSocketMessage message = await ws.ReceiveAsync();
            if (message.IsClose) return;
            await ws.SendAsync(message.Data, message.Kind);
        }
    }

    private static HttpResponseBase ManagedEcho(HttpRequest request)
    {
        HttpResponse? rejection = WebSocketHandshake.Check(request, out string key);
        if (rejection is not null) return rejection;
        var upgrade = new UpgradeResponse(transport =>
        {
            var stream = new LoopStream(transport);
            transport.Loop.Post(static state => _ = RunManaged((LoopStream)state!), stream);
            return stream;
        });
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Connection", "Upgrade");
        upgrade.Headers.Add("Sec-WebSocket-Accept", WebSocketHandshake.AcceptValue(key));
        return upgrade;
    }

    private static async Task RunManaged(LoopStream stream)
    {
        using WebSocket ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.FromSeconds(30) });
        byte[] buffer = new byte[4096]; // as the ASP.NET Core sample does
        try
        {
            while (true)
            {
                ValueWebSocketReceiveResult result = await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }
                await ws.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // the client left
        }
    }

    private static async Task<HttpResponse> Publish(HttpRequest request)
    {
        if (int.TryParse(request.Query["subscribers"], out int wanted))
        {
            for (int i = 0; i < 3000 && Topics.SubscriberCount("bench") < wanted; i++) await Task.Delay(10);
        }
        // The server's own figure beside the client's: from the publish call until it returned, which (one loop, the
        // publisher on it) is when the last subscriber's frame was handed to the kernel; and the GC's pauses meanwhile.
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        Topics.Publish("bench", Broadcast);
        double serverMicroseconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        double pauseMicroseconds = (GC.GetTotalPauseDuration() - pausedBefore).TotalMicroseconds;
        return new HttpResponse(FormattableString.Invariant(
            $"subscribers={Topics.SubscriberCount("bench")} server_us={serverMicroseconds:0} gc_pause_us={pauseMicroseconds:0}"), 200, "text/plain");
    }
}
