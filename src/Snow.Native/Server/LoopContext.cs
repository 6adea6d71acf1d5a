using Microsoft.Extensions.Logging;
using Snow.Native.Diagnostics;
using Snow.Native.Execution;
using Snow.Native.Http1;
using Snow.Native.Loop;
using Snow.Native.Transport;
using Snow.Native.Transport.Tls;

namespace Snow.Native.Server;

/// <summary>
/// One loop's share of the server: its transports (and the heartbeat that fires their timers), its HTTP/1.1
/// connections' context, its executions, and the graceful stop. Loop thread only, except the counters.
/// </summary>
internal sealed class LoopContext : TransportContext
{
    private LoopTimer? _heartbeat;
    private LoopTimer? _drainDeadline;
    private bool _drainFinished;

    public LoopContext(EventLoop loop, SnowOptions options, Router router, ILogger logger, ConnectionGate gate, ServerTelemetry? telemetry = null)
        : base(loop, logger, new TransportSettings(
            (long)options.SendStallTimeout.TotalMilliseconds,
            (long)options.LingerTimeout.TotalMilliseconds,
            options.MaxResponseBufferBytes))
    {
        Options = options;
        Gate = gate;
        Execution = new LoopExecutions(loop, router, logger);
        Http1 = new Http1Context(options, Execution, logger, loop, telemetry);
        _startNegotiated = StartNegotiated;
        _busySince = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private long _busySince;     // when the busy ratio's current window began (Stopwatch ticks)
    private long _waitedBefore;  // the loop's wait ticks then
    private double _busyRatio;

    /// <summary>The share of the last heartbeat interval (about a second) the loop spent working rather than waiting; 0 to 1.</summary>
    public double BusyRatio => Volatile.Read(ref _busyRatio);

    public SnowOptions Options { get; }

    public ConnectionGate Gate { get; }

    public LoopExecutions Execution { get; }

    public Http1Context Http1 { get; }

    public int ParkedCount => Execution.ParkedCount;

    /// <summary>True once the server is stopping: no connection is adopted, and every response closes its connection.</summary>
    public bool Draining => Http1.Draining;

    /// <summary>Serves HTTP/1.1 on an accepted socket, through TLS when the endpoint has <paramref name="tls"/>.</summary>
    public void Adopt(int fd, TlsServerSettings? tls = null)
    {
        if (tls is null) Http1Connection.Start(Http1, new SocketTransport(this, fd));
        else if (tls.OpenSsl is not null) new OpenSslTransport(this, fd, tls, _startNegotiated).Start();
        else new TlsTransport(this, fd, tls, _startNegotiated).Start();
    }

    /// <summary>
    /// A TLS connection finished its handshake: the protocol ALPN chose starts. The one place where HTTP/2 will be
    /// chosen once it exists; today only http/1.1 is offered, and a client that offered nothing gets it too.
    /// </summary>
    private void StartNegotiated(ConnectionTransport transport) => Http1Connection.Start(Http1, transport);

    private readonly Action<ConnectionTransport> _startNegotiated;

    /// <summary>Serves HTTP/1.1 to a peer in this process (the test client); the caller has entered the gate.</summary>
    public PipeTransport Connect(ITransportPeer peer)
    {
        var transport = new PipeTransport(this, peer);
        Http1Connection.Start(Http1, transport);
        return transport;
    }

    protected override void OnRemoved()
    {
        Gate.Release();
        if (Draining && OpenConnections == 0) FinishDrain();
    }

    private void MeasureBusy()
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        long waited = Loop.WaitTicks;
        long elapsed = now - _busySince;
        if (elapsed <= 0) return;
        double busy = 1.0 - (double)(waited - _waitedBefore) / elapsed;
        Volatile.Write(ref _busyRatio, Math.Clamp(busy, 0.0, 1.0));
        _busySince = now;
        _waitedBefore = waited;
    }

    public void StartHeartbeat() => _heartbeat = Loop.Schedule(HeartbeatInterval, static state => ((LoopContext)state!).Heartbeat(), this);

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts a graceful stop of this loop: idle connections close now, the others once their current response is
    /// out; whatever is still open after <paramref name="timeout"/> (parked requests nobody completed, streams) is
    /// closed, and the loop ends. Loop thread only.
    /// </summary>
    public void BeginDrain(TimeSpan timeout)
    {
        if (Draining) return;
        Http1.Draining = true;
        ShutdownAll();
        if (OpenConnections == 0) FinishDrain();
        else _drainDeadline = Loop.Schedule(timeout, static state => ((LoopContext)state!).FinishDrain(), this);
    }

    /// <summary>Ends a drain before its deadline: closes every connection and stops the loop.</summary>
    public void EndDrainNow()
    {
        if (Draining) FinishDrain();
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
        CloseAllConnections();
    }

    internal void Heartbeat()
    {
        MeasureBusy();
        CheckTimers(Loop.NowMilliseconds);
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
