using Microsoft.Extensions.Logging;

namespace Snow.Native;

/// <summary>
/// Server settings. The defaults are Kestrel's (themselves from nginx, Apache and IIS): request line 8 KiB,
/// headers 32 KiB and 100 fields, body 30,000,000 bytes, 30 s for the headers, 130 s of keep-alive idleness,
/// no connection limit.
/// </summary>
public sealed class SnowOptions
{
    /// <summary>Which poller the loops use; <see cref="PollerKind.Auto"/> honours SNOW_POLLER, then the OS's best.</summary>
    public PollerKind Poller { get; set; } = PollerKind.Auto;

    /// <summary>Where <see cref="SnowApp.Start()"/> and <see cref="SnowApp.Run()"/> listen, plain HTTP or HTTPS; when
    /// empty, http://127.0.0.1:8012. <c>Start(host, port)</c> and <c>Start(endpoints)</c> use theirs instead.</summary>
    public IList<SnowEndpoint> Endpoints { get; set; } = new List<SnowEndpoint>();

    /// <summary>How many loops (threads) serve connections; 0 means one per core.</summary>
    public int Loops { get; set; }

    /// <summary>Request size limits, enforced while parsing.</summary>
    public HttpLimits Limits { get; set; } = new();

    /// <summary>Time allowed for a request's headers, from its first byte (or from the end of the previous response). Then 408 and close.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle keep-alive connection is kept open.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    /// <summary>How long a request body may go without receiving a byte before the connection is closed (408).</summary>
    public TimeSpan RequestBodyIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection may go without the client taking any of the response bytes queued for it
    /// before it is closed. While responses wait, the request timeouts are suspended: the server is not reading.</summary>
    public TimeSpan SendStallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>After an error response the server reads and discards for this long before closing, so the
    /// client gets the response rather than a reset.</summary>
    public TimeSpan LingerTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long <see cref="SnowApp.Stop()"/> lets requests in progress finish (parked requests may still be
    /// completed, responses still be sent) before it closes what is left. Zero stops at once.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The slowest a request body may arrive, after a grace period, while the server waits for it; slower clients
    /// get 408 and are closed, so a trickle of bytes cannot hold a connection and its buffer for ever. Kestrel's
    /// default: 240 bytes/s after 5 s. Null turns the check off (the body idle timeout still applies). A streamed
    /// body is measured only while its handler waits for bytes, not while it is busy with the bytes it has.
    /// </summary>
    public MinDataRate? MinRequestBodyDataRate { get; set; } = new(240, TimeSpan.FromSeconds(5));

    /// <summary>
    /// Per loop: the most read-buffer memory that request bodies being buffered (for handlers that run once the
    /// body is complete) may hold beyond each connection's standard 4 KiB. Buffers grow with the bytes received,
    /// never with what Content-Length announces; a body that would take the loop past this budget gets
    /// <c>503 Service Unavailable</c> and its connection is closed, so that slow or hostile uploads cannot exhaust
    /// the process's memory. Streamed bodies (<see cref="Route.StreamBody"/>) do not count: they hold at most a few
    /// buffers. Default 128 MiB, enough for four bodies at the default 30 MB limit at once.
    /// </summary>
    public long MaxBufferedRequestBodyBytesPerLoop { get; set; } = 128L * 1024 * 1024;

    /// <summary>The most connections open at once; null for no limit. Connections past it are closed on accept.</summary>
    public int? MaxConnections { get; set; }

    /// <summary>Per connection: once this many response bytes wait to be sent, the server stops reading and
    /// processing that connection's requests until the client catches up. Bounds memory for slow readers.
    /// <see cref="StreamingResponse.WaitForDrainAsync"/> waits for the queue to fall below it, and a streamed
    /// response that queues more than <see cref="StreamingResponse.HardLimitFactor"/> times it is aborted.</summary>
    public int MaxResponseBufferBytes { get; set; } = 64 * 1024;

    /// <summary>At most this many connections are accepted per wake-up of a listener, so one busy listener cannot
    /// starve the loop's other connections.</summary>
    public int AcceptBatch { get; set; } = 64;

    /// <summary>How long accepting pauses when the process runs out of file descriptors (EMFILE/ENFILE).</summary>
    public TimeSpan AcceptPauseOnFdExhaustion { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The listen backlog.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>Send a "Server: Snow.Native" header.</summary>
    public bool AddServerHeader { get; set; } = true;

    /// <summary>Where the server logs handler failures, rejected requests and accept trouble.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Where the kernel balances SO_REUSEPORT (Linux), each loop gets a listener of its own; false makes
    /// one listener hand accepted sockets to the loops, as on other systems (tests use it to cover that path).</summary>
    internal bool ReusePortWhereBalanced { get; set; } = true;

    internal int EffectiveLoops => Loops > 0 ? Loops : Environment.ProcessorCount;

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        ArgumentOutOfRangeException.ThrowIfNegative(Loops, nameof(Loops));
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxRequestLineBytes, 16, "Limits.MaxRequestLineBytes");
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxRequestHeadersTotalBytes, 0, "Limits.MaxRequestHeadersTotalBytes");
        ArgumentOutOfRangeException.ThrowIfLessThan(Limits.MaxRequestBodyBytes, 0, "Limits.MaxRequestBodyBytes");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxResponseBufferBytes, 1, nameof(MaxResponseBufferBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(AcceptBatch, 1, nameof(AcceptBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownTimeout, TimeSpan.Zero, nameof(ShutdownTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedRequestBodyBytesPerLoop, 0, nameof(MaxBufferedRequestBodyBytesPerLoop));
        if (MaxConnections is int max) ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, nameof(MaxConnections));
    }
}
