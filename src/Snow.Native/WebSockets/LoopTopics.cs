namespace Snow.Native.WebSockets;

/// <summary>
/// One loop's subscribers of a <see cref="WebSocketTopics"/>: per topic, the connections of this loop. Loop thread
/// only, except <see cref="Has"/>, a hint read by publishers on other threads (a miss costs nothing but the post).
/// </summary>
internal sealed class LoopTopics
{
    private readonly Dictionary<string, HashSet<WebSocketConnection>> _topics = new(StringComparer.Ordinal);
    private volatile string[] _names = [];

    public bool Has(string topic) => Array.IndexOf(_names, topic) >= 0;

    public bool Add(string topic, WebSocketConnection connection)
    {
        if (!_topics.TryGetValue(topic, out HashSet<WebSocketConnection>? subscribers))
        {
            _topics[topic] = subscribers = new HashSet<WebSocketConnection>(ReferenceEqualityComparer.Instance);
            _names = _topics.Keys.ToArray();
        }
        return subscribers.Add(connection);
    }

    public bool Remove(string topic, WebSocketConnection connection)
    {
        if (!_topics.TryGetValue(topic, out HashSet<WebSocketConnection>? subscribers) || !subscribers.Remove(connection)) return false;
        if (subscribers.Count == 0)
        {
            _topics.Remove(topic);
            _names = _topics.Keys.ToArray();
        }
        return true;
    }

    /// <summary>Queues the one frame on every subscriber of this loop and sends it.</summary>
    public void Deliver(string topic, byte[] frame)
    {
        if (!_topics.TryGetValue(topic, out HashSet<WebSocketConnection>? subscribers)) return;
        // A subscriber whose send fails (the peer is gone) closes and leaves the set: walk a pooled copy.
        int count = subscribers.Count;
        WebSocketConnection[] targets = System.Buffers.ArrayPool<WebSocketConnection>.Shared.Rent(count);
        subscribers.CopyTo(targets);
        try
        {
            for (int i = 0; i < count; i++) targets[i].SendFramed(frame);
        }
        finally
        {
            Array.Clear(targets, 0, count);
            System.Buffers.ArrayPool<WebSocketConnection>.Shared.Return(targets);
        }
    }
}
