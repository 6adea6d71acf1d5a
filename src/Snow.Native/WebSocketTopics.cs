using System.Collections.Concurrent;
using System.Text;
using Snow.Native.Loop;
using Snow.Native.WebSockets;

namespace Snow.Native;

/// <summary>
/// Publish/subscribe for WebSockets (uWebSockets' model): connections subscribe to named topics, and
/// <see cref="Publish(string, ReadOnlySpan{byte}, WebSocketMessageKind)"/> frames a message once and queues that
/// frame on every subscriber, on each subscriber's own loop. Thread-safe; one instance may serve a whole server
/// (or several). A connection leaves its topics when it closes.
/// </summary>
/// <remarks>A subscriber that does not take what is published to it is closed at its hard limit (see
/// <see cref="WebSocketConnection.HardLimitFactor"/>), as any sender's client would be: a broadcast never waits
/// for its slowest subscriber.</remarks>
public sealed class WebSocketTopics
{
    private readonly ConcurrentDictionary<EventLoop, LoopTopics> _loops = new();
    private readonly ConcurrentDictionary<string, StrongBox<int>> _counts = new(StringComparer.Ordinal);

    /// <summary>Subscribes <paramref name="connection"/> to <paramref name="topic"/> (on its loop; at once when called there).</summary>
    public void Subscribe(WebSocketConnection connection, string topic)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(topic);
        EventLoop loop = connection.Loop;
        loop.Invoke(static state =>
        {
            var (topics, socket, name) = ((WebSocketTopics, WebSocketConnection, string))state!;
            if (socket.IsClosed) return;
            LoopTopics local = topics._loops.GetOrAdd(socket.Loop, static _ => new LoopTopics());
            if (local.Add(name, socket))
            {
                socket.Subscribed(topics, name);
                Interlocked.Increment(ref topics.Count(name).Value);
            }
        }, (this, connection, topic));
    }

    /// <summary>Unsubscribes <paramref name="connection"/> from <paramref name="topic"/> (on its loop).</summary>
    public void Unsubscribe(WebSocketConnection connection, string topic)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(topic);
        connection.Loop.Invoke(static state =>
        {
            var (topics, socket, name) = ((WebSocketTopics, WebSocketConnection, string))state!;
            if (topics.Remove(socket, name)) socket.Unsubscribed(topics, name);
        }, (this, connection, topic));
    }

    /// <summary>Subscribers of <paramref name="topic"/> now, over all loops.</summary>
    public int SubscriberCount(string topic) => _counts.TryGetValue(topic, out StrongBox<int>? count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>
    /// Sends one message to every subscriber of <paramref name="topic"/>: framed once here, the frame is queued on
    /// each subscriber by its loop. Returns at once; thread-safe.
    /// </summary>
    public void Publish(string topic, ReadOnlySpan<byte> data, WebSocketMessageKind kind = WebSocketMessageKind.Binary)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (kind == WebSocketMessageKind.Close) throw new ArgumentException("A close is not published.", nameof(kind));
        if (SubscriberCount(topic) == 0) return;
        var frame = new byte[WebSocketFrameCodec.HeadLength(data.Length) + data.Length];
        WebSocketFrameCodec.WriteFrame(frame, kind == WebSocketMessageKind.Text ? WebSocketOpcode.Text : WebSocketOpcode.Binary, data);
        foreach (var (loop, local) in _loops)
        {
            if (!local.Has(topic)) continue;
            loop.Invoke(static state =>
            {
                var (topics, name, bytes) = ((LoopTopics, string, byte[]))state!;
                topics.Deliver(name, bytes);
            }, (local, topic, frame));
        }
    }

    /// <summary>Publishes <paramref name="text"/> as a text message; see <see cref="Publish(string, ReadOnlySpan{byte}, WebSocketMessageKind)"/>.</summary>
    public void Publish(string topic, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Publish(topic, Encoding.UTF8.GetBytes(text), WebSocketMessageKind.Text);
    }

    /// <summary>Loop thread of <paramref name="connection"/>: takes it off <paramref name="topic"/>.</summary>
    internal bool Remove(WebSocketConnection connection, string topic)
    {
        if (!_loops.TryGetValue(connection.Loop, out LoopTopics? local) || !local.Remove(topic, connection)) return false;
        Interlocked.Decrement(ref Count(topic).Value);
        return true;
    }

    private StrongBox<int> Count(string topic) => _counts.GetOrAdd(topic, static _ => new StrongBox<int>());

    /// <summary>A mutable box for a counter in a concurrent dictionary.</summary>
    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }
}
