using Microsoft.Extensions.Logging;
using Snow.Native.Loop;

namespace Snow.Native.Transport;

/// <summary>
/// What the transports of one loop share: the loop (its clock and its poller), the buffer pool, the timeouts
/// the transport enforces itself, and the list of open connections that the once-a-second heartbeat walks to
/// fire expired connection timers. Loop thread only, except the count.
/// </summary>
internal class TransportContext
{
    private readonly List<ConnectionTransport> _connections = new();
    private int _connectionCount;

    public TransportContext(EventLoop loop, ILogger logger, TransportSettings settings)
    {
        Loop = loop;
        Logger = logger;
        Settings = settings;
    }

    public EventLoop Loop { get; }

    public ILogger Logger { get; }

    public TransportSettings Settings { get; }

    public BufferPool Pool { get; } = new(bufferSize: 4096, maxRetained: 1024);

    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    private long _bytesReceived;
    private long _bytesSent;

    /// <summary>Bytes read from this loop's connections so far (read from any thread, for metrics).</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <summary>Bytes sent on this loop's connections so far (read from any thread, for metrics).</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    // Loop thread only: a plain add (the one writer), published for readers on other threads.
    internal void CountReceived(int count) => Volatile.Write(ref _bytesReceived, _bytesReceived + count);

    internal void CountSent(int count) => Volatile.Write(ref _bytesSent, _bytesSent + count);

    protected int OpenConnections => _connections.Count;

    internal void Add(ConnectionTransport connection)
    {
        connection.ListIndex = _connections.Count;
        _connections.Add(connection);
        Interlocked.Increment(ref _connectionCount);
    }

    internal void Remove(ConnectionTransport connection)
    {
        int index = connection.ListIndex;
        if (index < 0 || index >= _connections.Count || !ReferenceEquals(_connections[index], connection)) return;
        ConnectionTransport last = _connections[^1];
        _connections[index] = last;
        last.ListIndex = index;
        _connections.RemoveAt(_connections.Count - 1);
        connection.ListIndex = -1;
        Interlocked.Decrement(ref _connectionCount);
        OnRemoved();
    }

    /// <summary>A connection closed and left the list.</summary>
    protected virtual void OnRemoved()
    {
    }

    /// <summary>Fires the timers of every connection that are due at <paramref name="now"/>.</summary>
    public void CheckTimers(long now)
    {
        // Backwards, because an expiring connection may close and swap the last one into its place.
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].OnHeartbeat(now);
        }
    }

    /// <summary>Tells every connection the server is stopping.</summary>
    protected void ShutdownAll()
    {
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].Shutdown();
        }
    }

    /// <summary>Closes every connection at once.</summary>
    protected void CloseAllConnections()
    {
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].Close();
        }
    }
}

/// <summary>The limits a transport enforces on its own, in loop milliseconds.</summary>
internal sealed record TransportSettings(long SendStallMilliseconds, long LingerMilliseconds, int OutputHighWater);
