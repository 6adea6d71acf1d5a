using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Snow.Native;

// This part: the registry's state and its API (wait, listen, forget, dispose); the drive, delivery, publish and
// reconnection parts are in KeyRegistry.*.cs.
/// <summary>
/// The keys this process waits on and the one conversation with Redis each has: read the key's version, subscribe
/// to its channel, read the version again (a publish between the two was not heard, and the version tells), and
/// unsubscribe after the last waiter. One drive at a time per key talks to Redis for it; everything else is under
/// one lock and never waits for Redis.
/// </summary>
/// <remarks>
/// Why no wake-up is lost: a waiter's baseline is the key's version known when it joined (read from Redis for the
/// first waiter of a key). Every publish that Redis runs after that baseline either comes as a message (it ran
/// after the subscription) or shows as a newer version in the read that follows every subscription and every
/// reconnection (it ran before, or during an outage). Both go through <see cref="KeyChannel.Advance"/>, which
/// completes the waiters for any version newer than the known one and ignores the rest, so a message and a read
/// that both report one publish complete nobody twice.
/// </remarks>
internal sealed partial class KeyRegistry : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, KeyChannel> _channels = new(StringComparer.Ordinal); // by channel name
    private readonly HashSet<KeyChannel> _failed = [];
    private readonly IConnectionMultiplexer _redis;
    private readonly ISubscriber _subscriber;
    private readonly IDatabase _database;
    private readonly RedisFuturesOptions _options;
    private readonly ILogger? _logger;
    private readonly Timer _repairTimer;
    private bool _repairScheduled;
    private bool _disposed;
    private long _connectionFailures;
    private int _waiting;
    private int _catchUps;

    public KeyRegistry(IConnectionMultiplexer redis, RedisFuturesOptions options)
    {
        _redis = redis;
        _subscriber = redis.GetSubscriber();
        _database = redis.GetDatabase();
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger("Snow.Native.Redis");
        _repairTimer = new Timer(static state => ((KeyRegistry)state!).Repair(), this, Timeout.Infinite, Timeout.Infinite);
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>How many version reads after a subscription or a reconnection completed (tests wait on it).</summary>
    internal int CatchUpCount => Volatile.Read(ref _catchUps);

    public int WaitingCount
    {
        get { lock (_gate) return _waiting; }
    }

    public int ListeningKeyCount
    {
        get { lock (_gate) return _channels.Values.Count(channel => channel.Confirmed); }
    }

    public KeyedFuture Wait(string key, Func<HttpRequest, KeyedFuture, HttpResponseBase>? callback, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ValidateKey(key);
        if (timeout is { } delay) ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(timeout));
        var future = new KeyedFuture(this, key, callback);
        // The timeout and the token come first: completing the future before it joins the key leaves nothing behind.
        if (timeout is { } due) future.StartTimeout(due);
        future.CancelWith(cancellationToken);
        KeyChannel channel;
        bool drive;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(RedisFutures));
            if (future.IsReady) return future;
            channel = GetOrAddUnderGate(key);
            channel.Waiters.Add(future);
            future.Channel = channel;
            _waiting++;
            drive = ShouldDriveUnderGate(channel);
        }
        if (drive) _ = DriveAsync(channel);
        return future;
    }

    public IDisposable Subscribe(string key, Action<string> onMessage)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(onMessage);
        var listener = new KeyListener(this, key, onMessage);
        KeyChannel channel;
        bool drive;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(RedisFutures));
            channel = GetOrAddUnderGate(key);
            channel.Listeners.Add(listener);
            listener.Channel = channel;
            drive = ShouldDriveUnderGate(channel);
        }
        if (drive) _ = DriveAsync(channel);
        return listener;
    }

    /// <summary>A future that completed or whose client left: it no longer holds its key.</summary>
    public void Forget(KeyedFuture future)
    {
        KeyChannel? channel;
        bool drive;
        lock (_gate)
        {
            channel = future.Channel;
            if (channel is null) return;
            channel.Waiters.Remove(future);
            future.Channel = null;
            _waiting--;
            drive = ShouldDriveUnderGate(channel);
        }
        if (drive) _ = DriveAsync(channel);
    }

    public void RemoveListener(KeyListener listener)
    {
        KeyChannel? channel;
        bool drive;
        lock (_gate)
        {
            channel = listener.Channel;
            if (channel is null) return;
            channel.Listeners.Remove(listener);
            listener.Channel = null;
            drive = ShouldDriveUnderGate(channel);
        }
        if (drive) _ = DriveAsync(channel);
    }

    public Task WhenListening(KeyedFuture future)
    {
        lock (_gate)
        {
            KeyChannel? channel = future.Channel;
            if (channel is null || channel.HasBaseline || future.IsReady) return Task.CompletedTask;
            var watcher = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (channel.BaselineWatchers ??= []).Add(watcher);
            return watcher.Task;
        }
    }

    public void Dispose()
    {
        List<KeyedFuture> waiters = [];
        List<TaskCompletionSource> watchers = [];
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (KeyChannel channel in _channels.Values)
            {
                waiters.AddRange(TakeWaitersUnderGate(channel));
                if (channel.BaselineWatchers is { } list) watchers.AddRange(list);
                channel.BaselineWatchers = null;
                foreach (KeyListener listener in channel.Listeners) listener.Channel = null;
                channel.Listeners.Clear();
                if (channel.Registered) _subscriber.Unsubscribe(RedisChannel.Literal(channel.Channel), null, CommandFlags.FireAndForget);
                channel.Removed = true;
            }
            _channels.Clear();
            _failed.Clear();
        }
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        _repairTimer.Dispose();
        foreach (TaskCompletionSource watcher in watchers) watcher.TrySetResult();
        // Nobody will publish to these any more through this registry: their requests get a 500 rather than hang.
        foreach (KeyedFuture waiter in waiters) waiter.SetCanceled();
    }

    private string ChannelName(string key) => _options.ChannelPrefix + key;

    private static void ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
    }

    private KeyChannel GetOrAddUnderGate(string key)
    {
        string name = ChannelName(key);
        if (!_channels.TryGetValue(name, out KeyChannel? channel))
        {
            channel = new KeyChannel(key, name);
            _channels.Add(name, channel);
        }
        return channel;
    }
}
