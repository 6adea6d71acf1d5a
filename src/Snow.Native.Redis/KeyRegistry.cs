using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Snow.Native;

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
internal sealed class KeyRegistry : IDisposable
{
    private static readonly RedisValue[] VersionFields = ["e", "v", "p"];

    // The publish, atomic in Redis: bump the key's version (creating the hash with a random epoch the first time),
    // keep the message beside it for readers that missed the channel, and publish "epoch:version:message".
    private const string PublishScript = """
        redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
        local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
        redis.call('HSET', KEYS[1], 'p', ARGV[2])
        local ttl = tonumber(ARGV[3])
        if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
        local e = redis.call('HGET', KEYS[1], 'e')
        return redis.call('PUBLISH', KEYS[1], e .. ':' .. v .. ':' .. ARGV[2])
        """;

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

    private enum Step
    {
        None,
        Remove,
        ReadBaseline,
        Subscribe,
        Confirm,
        CatchUp,
        Unsubscribe,
    }

    /// <summary>Tests only: runs after a key's version was read and before its SUBSCRIBE, to publish into that gap.</summary>
    internal Func<string, Task>? BeforeSubscribe { get; set; }

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

    public async Task<long> PublishAsync(string key, string message)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, typeof(RedisFutures));
        long ttl = _options.VersionTimeToLive == Timeout.InfiniteTimeSpan ? 0 : (long)_options.VersionTimeToLive.TotalMilliseconds;
        string epoch = Random.Shared.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            RedisResult receivers = await _database.ScriptEvaluateAsync(PublishScript, [ChannelName(key)], [epoch, message, ttl]).ConfigureAwait(false);
            return (long)receivers;
        }
        catch (RedisConnectionException e)
        {
            throw new KeyedPublishException(key, mayHaveBeenDelivered: false, e);
        }
        catch (RedisTimeoutException e)
        {
            throw new KeyedPublishException(key, mayHaveBeenDelivered: true, e);
        }
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

    private Step NextStepUnderGate(KeyChannel channel)
    {
        if (_disposed || channel.Removed) return Step.None;
        if (channel.IsLive)
        {
            if (!channel.HasBaseline) return Step.ReadBaseline;
            if (!channel.Registered) return Step.Subscribe;
            if (!channel.Confirmed) return Step.Confirm;
            return channel.NeedsCatchUp ? Step.CatchUp : Step.None;
        }
        return channel.Registered ? Step.Unsubscribe : Step.Remove;
    }

    /// <summary>True (and the channel marked as driven) when the key needs a conversation with Redis that is not running yet.</summary>
    private bool ShouldDriveUnderGate(KeyChannel channel)
    {
        if (channel.Driving || channel.Failed) return false;
        Step step = NextStepUnderGate(channel);
        if (step == Step.Remove) RemoveUnderGate(channel);
        if (step is Step.None or Step.Remove) return false;
        channel.Driving = true;
        return true;
    }

    private void RemoveUnderGate(KeyChannel channel)
    {
        channel.Removed = true;
        // Nobody waits on the key any more: a Listening of a future that left before the version was read is over too.
        if (channel.BaselineWatchers is { } watchers)
        {
            channel.BaselineWatchers = null;
            foreach (TaskCompletionSource watcher in watchers) watcher.TrySetResult(); // continuations run asynchronously
        }
        if (_channels.TryGetValue(channel.Channel, out KeyChannel? current) && ReferenceEquals(current, channel)) _channels.Remove(channel.Channel);
    }

    private async Task DriveAsync(KeyChannel channel)
    {
        bool lingered = false;
        while (true)
        {
            Step step;
            long failuresBefore;
            lock (_gate)
            {
                step = NextStepUnderGate(channel);
                if (step == Step.Remove) RemoveUnderGate(channel);
                if (step is Step.None or Step.Remove)
                {
                    channel.Driving = false;
                    return;
                }
                if (step != Step.Unsubscribe) lingered = false;
                if (step == Step.CatchUp) channel.NeedsCatchUp = false;
                if (step == Step.Subscribe) channel.Registered = true;
                failuresBefore = _connectionFailures;
            }
            RedisChannel name = RedisChannel.Literal(channel.Channel);
            try
            {
                switch (step)
                {
                    case Step.ReadBaseline:
                    {
                        (string? epoch, long version, _) = await ReadVersionAsync(channel).ConfigureAwait(false);
                        List<TaskCompletionSource>? watchers;
                        lock (_gate)
                        {
                            channel.KnownEpoch = epoch;
                            channel.KnownVersion = version;
                            channel.HasBaseline = true;
                            watchers = channel.BaselineWatchers;
                            channel.BaselineWatchers = null;
                        }
                        watchers?.ForEach(watcher => watcher.TrySetResult());
                        break;
                    }
                    case Step.Subscribe:
                        if (BeforeSubscribe is { } hook) await hook(channel.Key).ConfigureAwait(false);
                        ChannelMessageQueue queue;
                        try
                        {
                            queue = await _subscriber.SubscribeAsync(name).ConfigureAwait(false);
                        }
                        catch
                        {
                            // The client keeps a subscription whose SUBSCRIBE failed and sends it on reconnection; drop it,
                            // so that the retry subscribes once, from a known state.
                            lock (_gate) channel.Registered = false;
                            await ForgetSubscriptionAsync(name).ConfigureAwait(false);
                            throw;
                        }
                        // A queue hands its messages over one at a time, in Redis's order (handlers would run on
                        // pool threads, concurrently, and a newer version seen first would hide an older one from
                        // a listener); it lives until the channel is unsubscribed.
                        queue.OnMessage(message => OnMessage(channel, message.Message));
                        MarkConfirmed(channel, failuresBefore);
                        break;
                    case Step.Confirm:
                        // The client resubscribes every channel when the connection comes back, before it reports it
                        // restored; a ping on the subscription connection answers after those subscriptions did.
                        await _subscriber.PingAsync().ConfigureAwait(false);
                        MarkConfirmed(channel, failuresBefore);
                        break;
                    case Step.CatchUp:
                    {
                        (string? epoch, long version, string? message) = await ReadVersionAsync(channel).ConfigureAwait(false);
                        Deliver(channel, epoch, version, message);
                        Interlocked.Increment(ref _catchUps);
                        break;
                    }
                    case Step.Unsubscribe:
                        if (!lingered && _options.UnsubscribeDelay > TimeSpan.Zero)
                        {
                            lingered = true;
                            await Task.Delay(_options.UnsubscribeDelay).ConfigureAwait(false);
                            break; // decide again: a waiter may have come back meanwhile
                        }
                        lingered = false;
                        await _subscriber.UnsubscribeAsync(name).ConfigureAwait(false);
                        lock (_gate)
                        {
                            channel.Registered = false;
                            channel.Confirmed = false;
                        }
                        break;
                }
            }
            catch (Exception e)
            {
                _logger?.LogWarning("Redis: key '{Key}': {Step} failed ({Error}); retrying every {Interval} and when the connection is restored.",
                    channel.Key, step, e.Message, _options.RetryInterval);
                lock (_gate)
                {
                    if (step == Step.CatchUp) channel.NeedsCatchUp = true;
                    channel.Driving = false;
                    channel.Failed = true;
                    _failed.Add(channel);
                    ScheduleRepairUnderGate();
                }
                return;
            }
        }
    }

    private async Task ForgetSubscriptionAsync(RedisChannel name)
    {
        try
        {
            await _subscriber.UnsubscribeAsync(name).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Unreachable: the client dropped its own record of the channel before trying to tell Redis.
        }
    }

    private void MarkConfirmed(KeyChannel channel, long failuresBefore)
    {
        lock (_gate)
        {
            // A connection that failed meanwhile may have lost the subscription: confirm it again then.
            if (_connectionFailures != failuresBefore) return;
            channel.Confirmed = true;
            channel.NeedsCatchUp = true;
        }
    }

    private async Task<(string? Epoch, long Version, string? Message)> ReadVersionAsync(KeyChannel channel)
    {
        RedisValue[] fields = await _database.HashGetAsync(channel.Channel, VersionFields).ConfigureAwait(false);
        return (fields[0].IsNull ? null : (string?)fields[0], fields[1].IsNull ? 0 : (long)fields[1], fields[2].IsNull ? null : (string?)fields[2]);
    }

    private void OnMessage(KeyChannel channel, RedisValue value)
    {
        if (TryParse((string?)value, out string? epoch, out long version, out string? message)) Deliver(channel, epoch, version, message);
    }

    /// <summary>A version seen in a message or a read: if it is newer, completes every waiter and tells every listener.</summary>
    private void Deliver(KeyChannel channel, string? epoch, long version, string? message)
    {
        HashSet<KeyedFuture>? waiters = null;
        KeyListener[]? listeners = null;
        bool drive;
        lock (_gate)
        {
            if (channel.Removed || !channel.Advance(epoch, version) || message is null) return;
            if (channel.Waiters.Count > 0) waiters = TakeWaitersUnderGate(channel);
            if (channel.Listeners.Count > 0) listeners = [.. channel.Listeners];
            drive = ShouldDriveUnderGate(channel);
        }
        if (waiters is not null)
        {
            foreach (KeyedFuture waiter in waiters) waiter.SetResult(message);
        }
        if (listeners is not null)
        {
            foreach (KeyListener listener in listeners)
            {
                try
                {
                    listener.OnMessage(message);
                }
                catch (Exception e)
                {
                    _logger?.LogError(e, "Redis: a listener of key '{Key}' threw.", channel.Key);
                }
            }
        }
        if (drive) _ = DriveAsync(channel);
    }

    private HashSet<KeyedFuture> TakeWaitersUnderGate(KeyChannel channel)
    {
        HashSet<KeyedFuture> taken = channel.Waiters;
        channel.Waiters = [];
        foreach (KeyedFuture waiter in taken) waiter.Channel = null;
        _waiting -= taken.Count;
        return taken;
    }

    private static bool TryParse(string? value, out string? epoch, out long version, out string? message)
    {
        epoch = message = null;
        version = 0;
        if (value is null) return false;
        int first = value.IndexOf(':');
        int second = first < 0 ? -1 : value.IndexOf(':', first + 1);
        if (second < 0 || !long.TryParse(value.AsSpan(first + 1, second - first - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version)) return false;
        epoch = value[..first];
        message = value[(second + 1)..];
        return true;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        List<KeyChannel> drive = [];
        lock (_gate)
        {
            if (_disposed) return;
            _connectionFailures++;
            foreach (KeyChannel channel in _channels.Values)
            {
                // Publishes during the outage are not heard: once the subscription is back, the version is read again.
                channel.Confirmed = false;
                if (ShouldDriveUnderGate(channel)) drive.Add(channel);
            }
        }
        _logger?.LogWarning("Redis: connection lost ({Failure}); parked waiters stay parked, and their keys are caught up when it is back.", e.FailureType);
        foreach (KeyChannel channel in drive) _ = DriveAsync(channel);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Repair();

    private void ScheduleRepairUnderGate()
    {
        if (_repairScheduled || _disposed) return;
        _repairScheduled = true;
        _repairTimer.Change(_options.RetryInterval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Starts the drive of every key whose last one failed (on the retry timer, and when the connection is restored).</summary>
    private void Repair()
    {
        List<KeyChannel> drive = [];
        lock (_gate)
        {
            if (_disposed) return;
            _repairScheduled = false;
            foreach (KeyChannel channel in _failed)
            {
                channel.Failed = false;
                if (ShouldDriveUnderGate(channel)) drive.Add(channel);
            }
            _failed.Clear();
        }
        foreach (KeyChannel channel in drive) _ = DriveAsync(channel);
    }
}
