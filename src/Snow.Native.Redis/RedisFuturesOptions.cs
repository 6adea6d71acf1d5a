using Microsoft.Extensions.Logging;

namespace Snow.Native;

/// <summary>How <see cref="RedisFutures"/> names its channels and keys in Redis, and how it behaves while Redis is away.</summary>
public sealed class RedisFuturesOptions
{
    private string _channelPrefix = "snow:";
    private TimeSpan _versionTimeToLive = TimeSpan.FromDays(1);
    private TimeSpan _retryInterval = TimeSpan.FromSeconds(1);
    private TimeSpan _unsubscribeDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Put before every channel and key name (default <c>snow:</c>): a key <c>k</c> is the channel <c>snow:k</c> and
    /// its version the hash <c>snow:k</c>. Apps that share a Redis use different prefixes, and every instance of one
    /// app the same.
    /// </summary>
    public string ChannelPrefix
    {
        get => _channelPrefix;
        set => _channelPrefix = string.IsNullOrEmpty(value) ? throw new ArgumentException("The channel prefix must not be empty: apps that share a Redis would hear each other.", nameof(value)) : value;
    }

    /// <summary>
    /// How long a key's version (and last message) stays in Redis after its last publish (default one day; each
    /// publish starts it again). It only has to outlast the time between a waiter reading the version and its
    /// subscription being confirmed, or an outage; <see cref="Timeout.InfiniteTimeSpan"/> keeps versions forever.
    /// </summary>
    public TimeSpan VersionTimeToLive
    {
        get => _versionTimeToLive;
        set => _versionTimeToLive = value == Timeout.InfiniteTimeSpan || value >= TimeSpan.FromSeconds(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The version's time to live must be at least 1 s (or infinite).");
    }

    /// <summary>
    /// While Redis cannot be reached, how often a key whose subscription or version read failed is tried again
    /// (default 1 s); a restored connection also tries every such key at once.
    /// </summary>
    public TimeSpan RetryInterval
    {
        get => _retryInterval;
        set => _retryInterval = value > TimeSpan.Zero && value <= TimeSpan.FromMinutes(10)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The retry interval must be above 0 and at most 10 minutes.");
    }

    /// <summary>
    /// How long a key's subscription outlives its last local waiter (default 1 s), so that long-polling clients that
    /// come straight back after a release find it still there instead of paying a subscribe and a version read each
    /// time. <see cref="TimeSpan.Zero"/> unsubscribes at once.
    /// </summary>
    public TimeSpan UnsubscribeDelay
    {
        get => _unsubscribeDelay;
        set => _unsubscribeDelay = value >= TimeSpan.Zero && value <= TimeSpan.FromMinutes(10)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The unsubscribe delay must be between 0 and 10 minutes.");
    }

    /// <summary>Where connection losses and failed subscriptions are logged (category <c>Snow.Native.Redis</c>); none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
