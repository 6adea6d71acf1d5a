using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Snow.Native.KestrelBaseline;

/// <summary>
/// The WebSocket endpoints Snow.Native's bench server has, the way an ASP.NET Core app writes them: /ws/ (an
/// echo with the docs' 4 KiB buffer), /ws-sub/ (joins the subscriber set) and /publish/ (sends one message to
/// every subscriber; ASP.NET Core has no frame-once publish, so each socket's SendAsync frames it; ?subscribers=N
/// first waits, bounded, for N; answers "subscribers=N server_us=T gc_pause_us=P").
/// </summary>
internal static class WebSocketEndpoints
{
    private static readonly ConcurrentDictionary<WebSocket, bool> Subscribers = new();
    private static readonly byte[] Broadcast = "broadcast"u8.ToArray();

    public static void Map(WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Map("/ws/", Echo);
        app.Map("/ws-sub/", Subscribe);
        app.Map("/publish/", Publish);
        app.Map("/gc/", async context =>
        {
            byte[] answer = System.Text.Encoding.ASCII.GetBytes(FullCollection());
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer);
        });
    }

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

    private static async Task Echo(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using WebSocket ws = await context.WebSockets.AcceptWebSocketAsync();
        byte[] buffer = new byte[4096];
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

    private static async Task Subscribe(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        using WebSocket ws = await context.WebSockets.AcceptWebSocketAsync();
        Subscribers[ws] = true;
        byte[] buffer = new byte[256];
        try
        {
            while ((await ws.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            // the client left
        }
        finally
        {
            Subscribers.TryRemove(ws, out _);
        }
    }

    private static async Task Publish(HttpContext context)
    {
        if (int.TryParse(context.Request.Query["subscribers"], out int wanted))
        {
            for (int i = 0; i < 3000 && Subscribers.Count < wanted; i++) await Task.Delay(10);
        }
        // The server's own figure, as Snow's bench server gives it: from the first send until every send completed
        // (each frame handed to the kernel), and the GC's pauses meanwhile.
        TimeSpan pausedBefore = GC.GetTotalPauseDuration();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var sends = new List<Task>(Subscribers.Count);
        foreach (WebSocket ws in Subscribers.Keys)
        {
            sends.Add(Send(ws));
        }
        await Task.WhenAll(sends);
        double serverMicroseconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        double pauseMicroseconds = (GC.GetTotalPauseDuration() - pausedBefore).TotalMicroseconds;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        byte[] answer = System.Text.Encoding.ASCII.GetBytes(FormattableString.Invariant($"subscribers={sends.Count} server_us={serverMicroseconds:0} gc_pause_us={pauseMicroseconds:0}"));
        context.Response.ContentLength = answer.Length; // not chunked: the bench client reads one Content-Length body
        await context.Response.Body.WriteAsync(answer);
    }

    private static async Task Send(WebSocket ws)
    {
        try
        {
            await ws.SendAsync(Broadcast, WebSocketMessageType.Binary, true, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // that subscriber left
        }
    }
}
