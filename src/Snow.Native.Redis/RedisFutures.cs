using StackExchange.Redis;

namespace Snow.Native;

/// <summary>
/// Keyed futures across instances, through Redis pub/sub: a handler parks its request on a key
/// (<see cref="Wait(string, TimeSpan?, CancellationToken)"/>), and a publish to that key from any instance, any handler or
/// any thread (<see cref="PublishAsync"/>) completes every request waiting on it, on every instance.
/// </summary>
/// <remarks>
/// Each key is a channel (the prefix and the key), subscribed with the key's first local waiter and unsubscribed
/// after its last, and a version kept beside it in Redis, so that a publish racing a new waiter, or published while
/// the connection was down, is caught up rather than lost. The same channel carries standing listeners
/// (<see cref="Subscribe"/>), which WebSocket and SSE topics ride on. Thread-safe; make one per process and prefix.
/// </remarks>
public sealed class RedisFutures : IDisposable, IAsyncDisposable
{
    private readonly KeyRegistry _registry;
    private readonly IConnectionMultiplexer _redis;
    private readonly bool _ownsConnection;

    /// <summary>
    /// Uses a connection the application already has. A publish made while it is down then follows that connection's
    /// own backlog policy (StackExchange.Redis queues it until its timeout by default); <see cref="ConnectAsync"/>
    /// fails such a publish at once instead.
    /// </summary>
    public RedisFutures(IConnectionMultiplexer redis, RedisFuturesOptions? options = null)
        : this(redis, options, ownsConnection: false)
    {
    }

    private RedisFutures(IConnectionMultiplexer redis, RedisFuturesOptions? options, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(redis);
        _redis = redis;
        _ownsConnection = ownsConnection;
        Options = options ?? new RedisFuturesOptions();
        _registry = new KeyRegistry(redis, Options);
    }

    /// <summary>The settings this instance was made with.</summary>
    public RedisFuturesOptions Options { get; }

    internal KeyRegistry Registry => _registry;

    /// <summary>True while the connection to Redis is up.</summary>
    public bool IsConnected => _redis.IsConnected;

    /// <summary>The keyed futures of this process still waiting.</summary>
    public int WaitingCount => _registry.WaitingCount;

    /// <summary>The keys whose channel this process is subscribed to right now (Redis confirmed it).</summary>
    public int ListeningKeyCount => _registry.ListeningKeyCount;

    /// <summary>
    /// Connects to Redis (a StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c>) and returns at
    /// once even if Redis is down: waits made meanwhile stay parked and take effect when it comes up, and a publish
    /// made while it is down throws <see cref="KeyedPublishException"/> at once instead of waiting. The connection
    /// is retried every half second; the first attempt waits 1 s at most (unless the configuration names a connectTimeout).
    /// </summary>
    public static async Task<RedisFutures> ConnectAsync(string configuration, RedisFuturesOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(configuration);
        ConfigurationOptions settings = ConfigurationOptions.Parse(configuration);
        settings.AbortOnConnectFail = false;
        settings.BacklogPolicy = BacklogPolicy.FailFast;
        settings.ReconnectRetryPolicy = new LinearRetry(500);
        // The client waits this long for the first connection before returning without one (5 s by default);
        // reconnection goes on in the background either way.
        if (!configuration.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) settings.ConnectTimeout = 1000;
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(settings).ConfigureAwait(false);
        return new RedisFutures(redis, options, ownsConnection: true);
    }

    /// <summary>
    /// A future that the next publish to <paramref name="key"/>, from any instance, completes with its message.
    /// Park the request on it (<c>yield return</c> in an iterator, <c>await</c> in an async handler).
    /// </summary>
    /// <param name="key">Any non-empty string; the channel is <see cref="RedisFuturesOptions.ChannelPrefix"/> and the key.</param>
    /// <param name="timeout">Completes the future with null (<see cref="KeyedFuture.IsTimedOut"/>) if no publish came by then; none by default.</param>
    /// <param name="cancellationToken">Cancels the wait; an async handler passes <see cref="HttpRequest.Aborted"/>, so that a client that left frees its key.</param>
    public KeyedFuture Wait(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _registry.Wait(key, null, timeout, cancellationToken);

    /// <summary>As <see cref="Wait(string, TimeSpan?, CancellationToken)"/>, with a callback that makes the parked request's response once the future is ready.</summary>
    public KeyedFuture Wait(string key, Func<HttpRequest, KeyedFuture, HttpResponseBase> callback, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _registry.Wait(key, callback, timeout, default);
    }

    /// <summary>
    /// Completes every future waiting on <paramref name="key"/>, on every instance, with <paramref name="message"/>,
    /// and tells every standing listener of the key. Returns how many instances were subscribed to the key when
    /// Redis ran it. Not retried: throws <see cref="KeyedPublishException"/> when Redis did not confirm it.
    /// </summary>
    public Task<long> PublishAsync(string key, string message) => _registry.PublishAsync(key, message);

    /// <summary>
    /// A standing listener: <paramref name="onMessage"/> hears every publish to <paramref name="key"/> from any
    /// instance (on a Redis client thread; it must not block) until the returned handle is disposed. After an outage
    /// it hears the newest message once if publishes went by unheard. This is what WebSocket and SSE topics ride on.
    /// </summary>
    public IDisposable Subscribe(string key, Action<string> onMessage) => _registry.Subscribe(key, onMessage);

    /// <summary>Unsubscribes, cancels every future still waiting (their requests get a 500), and closes the connection it opened.</summary>
    public void Dispose()
    {
        _registry.Dispose();
        if (_ownsConnection) _redis.Dispose();
    }

    /// <summary>Stops listening on every key and closes the connection to Redis when this instance opened it.</summary>
    public async ValueTask DisposeAsync()
    {
        _registry.Dispose();
        if (_ownsConnection) await _redis.DisposeAsync().ConfigureAwait(false);
    }
}
