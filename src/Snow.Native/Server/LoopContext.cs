using Microsoft.Extensions.Logging;
using Snow.Native.Http;
using Snow.Native.Loop;

namespace Snow.Native.Server;

/// <summary>
/// What the connections of one loop share: the loop, settings, router, buffer pool, parser scratch, the Date
/// header, and the list of open connections that the once-a-second heartbeat checks for expired deadlines.
/// Everything here belongs to the loop thread except the counters, which other threads may read.
/// </summary>
internal sealed class LoopContext
{
    private readonly List<HttpConnection> _connections = new();
    private int _connectionCount;
    private int _parkedCount;
    private LoopTimer? _heartbeat;

    public LoopContext(EventLoop loop, SnowOptions options, Router router, ILogger logger, ConnectionGate gate)
    {
        Loop = loop;
        Options = options;
        Router = router;
        Logger = logger;
        Gate = gate;
        int largestHead = options.Limits.MaxRequestLineBytes + options.Limits.MaxRequestHeadersTotalBytes;
        PathScratch = new char[options.Limits.MaxRequestLineBytes + 1];
        MaxHeadBuffer = largestHead + 4096;
    }

    public EventLoop Loop { get; }

    public SnowOptions Options { get; }

    public Router Router { get; }

    public ILogger Logger { get; }

    public ConnectionGate Gate { get; }

    public BufferPool Pool { get; } = new(bufferSize: 4096, maxRetained: 1024);

    public RequestHead Head { get; } = new();

    public char[] PathScratch { get; }

    public DateHeader Date { get; } = new();

    /// <summary>The largest read buffer a request head may need: both head limits plus room for the next read.</summary>
    public int MaxHeadBuffer { get; }

    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    public int ParkedCount => Volatile.Read(ref _parkedCount);

    public void Add(HttpConnection connection)
    {
        connection.ListIndex = _connections.Count;
        _connections.Add(connection);
        Interlocked.Increment(ref _connectionCount);
    }

    public void Remove(HttpConnection connection)
    {
        int index = connection.ListIndex;
        if (index < 0 || index >= _connections.Count || !ReferenceEquals(_connections[index], connection)) return;
        HttpConnection last = _connections[^1];
        _connections[index] = last;
        last.ListIndex = index;
        _connections.RemoveAt(_connections.Count - 1);
        connection.ListIndex = -1;
        Interlocked.Decrement(ref _connectionCount);
        Gate.Release();
        if (Draining && _connections.Count == 0) FinishDrain();
    }

    public void Parked() => Interlocked.Increment(ref _parkedCount);

    public void Unparked() => Interlocked.Decrement(ref _parkedCount);

    public void StartHeartbeat() => _heartbeat = Loop.Schedule(HeartbeatInterval, static state => ((LoopContext)state!).Heartbeat(), this);

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>True once the server is stopping: no connection is adopted, and every response closes its connection.</summary>
    public bool Draining { get; private set; }

    private LoopTimer? _drainDeadline;
    private bool _drainFinished;

    /// <summary>
    /// Starts a graceful stop of this loop: idle connections close now, the others once their current response is
    /// out; whatever is still open after <paramref name="timeout"/> (parked requests nobody completed, streams) is
    /// closed, and the loop ends. Loop thread only.
    /// </summary>
    public void BeginDrain(TimeSpan timeout)
    {
        if (Draining) return;
        Draining = true;
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].OnDrain();
        }
        if (_connections.Count == 0) FinishDrain();
        else _drainDeadline = Loop.Schedule(timeout, static state => ((LoopContext)state!).FinishDrain(), this);
    }

    private void FinishDrain()
    {
        if (_drainFinished) return;
        _drainFinished = true;
        if (_drainDeadline is not null) Loop.Cancel(_drainDeadline);
        CloseAll();
        Loop.Stop();
    }

    /// <summary>Closes every connection (parked requests are aborted) and stops the heartbeat.</summary>
    public void CloseAll()
    {
        if (_heartbeat is not null) Loop.Cancel(_heartbeat);
        _heartbeat = null;
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i < _connections.Count) _connections[i].Close();
        }
    }

    private void Heartbeat()
    {
        long now = Loop.NowMilliseconds;
        // Backwards, because an expiring connection may close and swap the last one into its place.
        for (int i = _connections.Count - 1; i >= 0; i--)
        {
            if (i >= _connections.Count) continue;
            HttpConnection connection = _connections[i];
            if (connection.Deadline != 0 && now >= connection.Deadline) connection.OnDeadline();
        }
        if (_heartbeat is { IsPending: false }) Loop.Reschedule(_heartbeat, HeartbeatInterval);
    }
}

/// <summary>Counts open connections across loops against <see cref="SnowOptions.MaxConnections"/>.</summary>
internal sealed class ConnectionGate(int? limit)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    public bool TryEnter()
    {
        int now = Interlocked.Increment(ref _open);
        if (limit is int max && now > max)
        {
            Interlocked.Decrement(ref _open);
            return false;
        }
        return true;
    }

    public void Release() => Interlocked.Decrement(ref _open);
}
