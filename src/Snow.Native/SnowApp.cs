using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snow.Native.Diagnostics;
using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;
using Snow.Native.Server;
using Snow.Native.Transport.Tls;

namespace Snow.Native;

/// <summary>
/// An HTTP/1.1 server built from an ordered list of routes, as in the original Snow:
/// <c>new SnowApp([("^/index/$", Index)]).Run("127.0.0.1", 8012)</c>. It runs one event loop per core (see
/// <see cref="SnowOptions.Loops"/>), each on its own thread with its own poller. On Linux every loop has its own
/// listening socket on the shared port (SO_REUSEPORT, balanced by the kernel); elsewhere one listener hands
/// accepted connections to the loops in turn.
/// </summary>
public sealed partial class SnowApp : IDisposable, IAsyncDisposable
{
    private readonly Router _router;
    private readonly ILogger _logger;
    private readonly object _lifecycle = new();
    private LoopContext[] _contexts = [];
    private Listener[] _listeners = [];
    private Thread[] _threads = [];
    private TaskCompletionSource? _stopped;
    private ServerTelemetry? _telemetry;
    private int _nextLoop;

    /// <summary>An app serving <paramref name="routes"/>, tried in order; <paramref name="options"/> defaults to <see cref="SnowOptions"/>'s defaults.</summary>
    public SnowApp(IEnumerable<Route> routes, SnowOptions? options = null)
    {
        _router = new Router(routes);
        Options = options ?? new SnowOptions();
        _logger = Options.LoggerFactory?.CreateLogger("Snow.Native") ?? NullLogger.Instance;
    }

    /// <summary>The settings the app was made with (read when it starts).</summary>
    public SnowOptions Options { get; }

    /// <summary>The routes, in the order they are tried.</summary>
    public IReadOnlyList<Route> Routes => _router.Routes;

    /// <summary>Where the server listens once started (the first endpoint, with the real port when started on port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>The first endpoint's URL once started: "http://127.0.0.1:8012/".</summary>
    public string? Url => Endpoints.Count == 0 ? null : Endpoints[0].Url;

    /// <summary>Every endpoint the server listens on once started, in the order given, with the real ports.</summary>
    public IReadOnlyList<ListeningEndpoint> Endpoints { get; private set; } = [];

    /// <summary>The poller the loops use, once started ("epoll", "kqueue", "select").</summary>
    public string? PollerName { get; private set; }

    /// <summary>How many loops serve connections, once started.</summary>
    public int LoopCount => _contexts.Length;

    /// <summary>True from <see cref="Start()"/> until the stop has ended.</summary>
    public bool IsRunning => _stopped is { Task.IsCompleted: false };

    /// <summary>Connections open now, over all loops.</summary>
    public int ConnectionCount => _contexts.Sum(c => c.ConnectionCount);

    /// <summary>Requests parked on a future or an unfinished task now, over all loops.</summary>
    public int ParkedRequestCount => _contexts.Sum(c => c.ParkedCount);

    /// <summary>Read and write buffers held by connections across all loops (an idle server holds none).</summary>
    internal int BuffersInUse => _contexts.Sum(c => c.Pool.InUse);

    /// <summary>Read-buffer bytes held beyond the standard size by request bodies being buffered, over all loops.</summary>
    internal long BufferedRequestBodyBytes => _contexts.Sum(c => c.Http1.BufferedBodyBytes);

    /// <summary>Open connections on each loop.</summary>
    internal int[] ConnectionsPerLoop => _contexts.Select(c => c.ConnectionCount).ToArray();

    /// <summary>Starts listening on one plain HTTP endpoint and serving on background threads; returns once the
    /// port is bound.</summary>
    public void Start(string host = "127.0.0.1", int port = 8012) => Start([new SnowEndpoint(host, port)]);

    /// <summary>Starts on <see cref="SnowOptions.Endpoints"/>, or on http://127.0.0.1:8012 when it is empty.</summary>
    public void Start() => Start(Options.Endpoints.Count > 0 ? Options.Endpoints : [new SnowEndpoint()]);

    /// <summary>
    /// Starts listening on every endpoint (plain HTTP or HTTPS) and serving on background threads; returns once
    /// every port is bound. Certificates are loaded now, so a missing or bad file fails here, naming it.
    /// </summary>
    public void Start(params IEnumerable<SnowEndpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        List<SnowEndpoint> requested = endpoints.ToList();
        if (requested.Count == 0) throw new ArgumentException("At least one endpoint is needed.", nameof(endpoints));
        foreach (SnowEndpoint endpoint in requested) ArgumentNullException.ThrowIfNull(endpoint, nameof(endpoints));
        lock (_lifecycle)
        {
            if (_stopped is not null) throw new InvalidOperationException("This SnowApp was already started; make a new one to start again.");
            StartCore(requested);
        }
    }

    /// <summary>This app's meter while it runs (tests listen to it alone).</summary>
    internal System.Diagnostics.Metrics.Meter? Meter => _telemetry?.Meter;

    /// <summary>
    /// Starts the loops and listens on <paramref name="requested"/>; with none, the loops serve in-process
    /// connections only (the test client). Under the lifecycle lock.
    /// </summary>
    private void StartCore(List<SnowEndpoint> requested)
    {
        Options.Validate();
        var plans = new List<(IPEndPoint Address, TlsServerSettings? Tls)>();
        foreach (SnowEndpoint endpoint in requested)
        {
            IPEndPoint address = ResolveEndPoint(endpoint.Host, endpoint.Port);
            TlsServerSettings? tls = endpoint.Https is null ? null : new HttpsCertificates(endpoint.Https, _logger, endpoint.ToString()).Settings;
            plans.Add((address, tls));
        }
        PollerKind kind = PollerFactory.Resolve(Options.Poller);
        int loopCount = Options.EffectiveLoops;
        bool reusePort = loopCount > 1 && SysConst.ReusePortBalances && Options.ReusePortWhereBalanced;
        Libc.RaiseOpenFileLimit();

        var gate = new ConnectionGate(Options.MaxConnections);
        var contexts = new LoopContext[loopCount];
        var listeners = new List<Listener>();
        var bound = new List<ListeningEndpoint>();
        var telemetry = new ServerTelemetry();
        try
        {
            for (int i = 0; i < loopCount; i++)
            {
                var loop = new EventLoop(PollerFactory.Create(kind), $"snow-loop-{i}", _logger);
                contexts[i] = new LoopContext(loop, Options, _router, _logger, gate, telemetry);
            }
            foreach ((IPEndPoint planned, TlsServerSettings? tls) in plans)
            {
                IPEndPoint address = planned;
                for (int i = 0; i < loopCount; i++)
                {
                    if (i > 0 && !reusePort) break;
                    int fd = ListenSocket.Open(address, reusePort, Options.Backlog);
                    if (i == 0) address = ListenSocket.LocalEndPoint(fd); // port 0: the others join the real port
                    LoopContext context = contexts[i];
                    Action<int> handOff = reusePort ? accepted => Adopt(context, accepted, tls) : accepted => HandOff(accepted, tls);
                    listeners.Add(new Listener(context, fd, handOff));
                }
                bound.Add(new ListeningEndpoint(address, tls is not null));
            }
            _contexts = contexts;
            _listeners = listeners.ToArray();
            foreach (Listener listener in listeners) listener.Start();
            foreach (LoopContext context in contexts) context.StartHeartbeat();
        }
        catch
        {
            foreach (Listener listener in listeners) listener.Close();
            foreach (LoopContext? context in contexts) context?.Loop.Dispose();
            _contexts = [];
            _listeners = [];
            telemetry.Dispose();
            throw;
        }
        _telemetry = telemetry;
        ServerInstruments.Register(telemetry.Meter, () => _contexts);

        Endpoints = bound;
        LocalEndPoint = bound.Count > 0 ? bound[0].EndPoint : null;
        PollerName = PollerFactory.Name(kind);
        _stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _threads = contexts.Select(c => c.Loop.StartThread()).ToArray();
        ServerLog.Started(_logger, PollerName, loopCount);
        foreach (ListeningEndpoint endpoint in bound) ServerLog.Listening(_logger, endpoint.Url);
    }

    /// <summary>Stops gracefully within <see cref="SnowOptions.ShutdownTimeout"/>; see <see cref="Stop(TimeSpan)"/>.</summary>
    public void Stop() => Stop(Options.ShutdownTimeout);

    /// <summary>
    /// Stops gracefully: closes the listeners at once, then idle connections; requests in progress (parked ones
    /// included) have up to <paramref name="timeout"/> to be answered, each on a connection that then closes;
    /// whatever is left after that is closed. Returns when every loop has ended. Called from a handler, it starts
    /// the stop and returns at once.
    /// </summary>
    public void Stop(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        if (_contexts.Any(c => c.Loop.IsOnLoopThread))
        {
            // Called from a handler: a loop cannot wait for itself to end, so stop from the thread pool.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.App.Stop(state.Timeout), (App: this, Timeout: timeout), preferLocal: false);
            return;
        }
        TaskCompletionSource? stopped;
        lock (_lifecycle)
        {
            stopped = _stopped;
            if (stopped is null || stopped.Task.IsCompleted) return;
            ServerLog.Stopping(_logger, ConnectionCount, ParkedRequestCount, timeout.TotalMilliseconds);
            foreach (LoopContext context in _contexts)
            {
                Listener[] own = _listeners.Where(l => l.Context == context).ToArray();
                context.Loop.Post(_ =>
                {
                    foreach (Listener listener in own) listener.Close();
                    context.BeginDrain(timeout);
                }, null);
            }
            foreach (Thread thread in _threads)
            {
                if (thread != Thread.CurrentThread) thread.Join();
            }
            foreach (LoopContext context in _contexts) context.Loop.Dispose();
            _telemetry?.Dispose();
            stopped.TrySetResult();
        }
        ServerLog.Stopped(_logger);
    }

    /// <summary>Stops gracefully within <see cref="SnowOptions.ShutdownTimeout"/> without blocking the caller; see <see cref="Stop(TimeSpan)"/>.</summary>
    public Task StopAsync() => Task.Run(Stop);

    /// <summary>Stops gracefully without blocking the caller; see <see cref="Stop(TimeSpan)"/>.</summary>
    public Task StopAsync(TimeSpan timeout) => Task.Run(() => Stop(timeout));

    /// <summary>
    /// Stops gracefully as <see cref="Stop(TimeSpan)"/> does, and once <paramref name="cancellationToken"/> is cancelled
    /// closes at once whatever is still open. The Generic Host's shutdown timeout arrives this way (Snow.Native.Hosting).
    /// </summary>
    public async Task StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task stopping = StopAsync(timeout);
        using (cancellationToken.Register(static state => ((SnowApp)state!).CutStopShort(), this, useSynchronizationContext: false))
        {
            await stopping.ConfigureAwait(false);
        }
    }

    /// <summary>Ends a graceful stop now: each loop closes its listener (if the stop has not yet) and every connection.</summary>
    private void CutStopShort()
    {
        if (_stopped is not { Task.IsCompleted: false }) return;
        ServerLog.StopCutShort(_logger);
        Listener[] listeners = _listeners;
        foreach (LoopContext context in _contexts)
        {
            Listener[] own = listeners.Where(l => l.Context == context).ToArray();
            // A loop that has already ended never runs this; one that has not begun to drain begins and ends at once.
            context.Loop.Post(_ =>
            {
                foreach (Listener listener in own) listener.Close();
                context.BeginDrain(TimeSpan.Zero);
                context.EndDrainNow();
            }, null);
        }
    }

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => _stopped?.Task ?? Task.CompletedTask;

    /// <summary>
    /// Starts and blocks until Ctrl+C, SIGTERM or <see cref="Stop()"/>, like the original Snow's run(). For services
    /// that manage their own lifetime, <see cref="RunAsync(string, int, CancellationToken)"/> takes a cancellation token instead.
    /// </summary>
    public void Run(string host = "127.0.0.1", int port = 8012) => Run([new SnowEndpoint(host, port)]);

    /// <summary>Runs on <see cref="SnowOptions.Endpoints"/> (or http://127.0.0.1:8012) until Ctrl+C, SIGTERM or <see cref="Stop()"/>.</summary>
    public void Run() => Run(Options.Endpoints.Count > 0 ? Options.Endpoints : [new SnowEndpoint()]);

    /// <summary>Runs on these endpoints until Ctrl+C, SIGTERM or <see cref="Stop()"/>.</summary>
    public void Run(params IEnumerable<SnowEndpoint> endpoints)
    {
        Start(endpoints);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        Completion.GetAwaiter().GetResult();
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled or <see cref="Stop()"/> is called.</summary>
    public Task RunAsync(string host = "127.0.0.1", int port = 8012, CancellationToken cancellationToken = default) =>
        RunAsync([new SnowEndpoint(host, port)], cancellationToken);

    /// <summary>Serves on these endpoints until <paramref name="cancellationToken"/> is cancelled or <see cref="Stop()"/> is called.</summary>
    public async Task RunAsync(IEnumerable<SnowEndpoint> endpoints, CancellationToken cancellationToken = default)
    {
        Start(endpoints);
        using (cancellationToken.Register(static state => ((SnowApp)state!).Stop(), this, useSynchronizationContext: false))
        {
            await Completion.ConfigureAwait(false);
        }
    }

    /// <summary>Stops gracefully within <see cref="SnowOptions.ShutdownTimeout"/> (see <see cref="Stop(TimeSpan)"/>).</summary>
    public void Dispose() => Stop();

    /// <summary>Stops gracefully within <see cref="SnowOptions.ShutdownTimeout"/> without blocking the caller.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // stop cleanly instead of the default termination
        ThreadPool.UnsafeQueueUserWorkItem(static app => app.Stop(), this, preferLocal: false);
    }

    /// <summary>One listener for all loops: deal accepted connections out in turn.</summary>
    private void HandOff(int fd, TlsServerSettings? tls)
    {
        int index = _nextLoop;
        _nextLoop = (index + 1) % _contexts.Length;
        LoopContext target = _contexts[index];
        if (target.Loop.IsOnLoopThread)
        {
            Adopt(target, fd, tls);
            return;
        }
        target.Loop.Post(static state =>
        {
            var (context, accepted, tls) = ((LoopContext, int, TlsServerSettings?))state!;
            Adopt(context, accepted, tls);
        }, (target, fd, tls));
    }

    private static void Adopt(LoopContext context, int fd, TlsServerSettings? tls)
    {
        if (context.Draining)
        {
            Libc.Close(fd); // handed over just as the stop began
            return;
        }
        if (!context.Gate.TryEnter())
        {
            ServerLog.ConnectionLimitReached(context.Logger, context.Options.MaxConnections);
            Libc.Close(fd); // over MaxConnections
            context.Http1.Telemetry.ConnectionRefused();
            return;
        }
        ListenSocket.ConfigureAccepted(fd);
        try
        {
            context.Adopt(fd, tls);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or ErrnoException or InvalidOperationException)
        {
            // select cannot hold descriptors past FD_SETSIZE, OpenSSL may have no memory for a session: refuse this
            // connection, keep serving the others.
            // The transport left the list (which released the gate) without closing the descriptor.
            ServerLog.ConnectionRefused(context.Logger, e.Message);
            Libc.Close(fd);
        }
    }

    internal static IPEndPoint ResolveEndPoint(string host, int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        string name = (host ?? "").Trim();
        if (name.Length == 0 || name == "*" || name == "0.0.0.0") return new IPEndPoint(IPAddress.Any, port);
        if (name.StartsWith('[') && name.EndsWith(']')) name = name[1..^1];
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, port);
        if (IPAddress.TryParse(name, out IPAddress? address)) return new IPEndPoint(address, port);
        IPAddress[] addresses = Dns.GetHostAddresses(name);
        IPAddress chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"Host '{host}' has no address.", nameof(host));
        return new IPEndPoint(chosen, port);
    }
}
