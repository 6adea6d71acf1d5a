namespace Snow.Native;

/// <summary>
/// One key's state in this process: who waits on it, whether its channel is subscribed, and the newest version of
/// it this process knows. Every field is guarded by the <see cref="KeyRegistry"/>'s lock.
/// </summary>
/// <remarks>
/// The version is the hash's (epoch, counter): a publish increments the counter, and the epoch is a random id
/// set when the hash is created, so that a Redis restarted empty (counter back to 1) is not mistaken for the
/// version this process knew. Known only moves forward: a message or a version read that is not newer completes
/// nobody, which makes duplicate and replayed deliveries harmless.
/// </remarks>
internal sealed class KeyChannel(string key, string channel)
{
    public string Key { get; } = key;

    /// <summary>The Redis channel and version hash name: the prefix and the key.</summary>
    public string Channel { get; } = channel;

    /// <summary>One-shot waiters: every one is completed by the next newer version.</summary>
    public HashSet<KeyedFuture> Waiters { get; set; } = [];

    /// <summary>Standing listeners (topic subscribers): each hears every newer version.</summary>
    public List<KeyListener> Listeners { get; } = [];

    /// <summary>Callers of <see cref="KeyedFuture.Listening"/> before the baseline was read.</summary>
    public List<TaskCompletionSource>? BaselineWatchers { get; set; }

    public bool IsLive => Waiters.Count > 0 || Listeners.Count > 0;

    /// <summary>True once <see cref="KnownEpoch"/>/<see cref="KnownVersion"/> hold a version read from Redis or delivered by it.</summary>
    public bool HasBaseline { get; set; }

    public string? KnownEpoch { get; set; }

    public long KnownVersion { get; set; }

    /// <summary>The channel is registered with the client (which then resubscribes it after every reconnection).</summary>
    public bool Registered { get; set; }

    /// <summary>Redis confirmed the subscription on the current connection.</summary>
    public bool Confirmed { get; set; }

    /// <summary>The version must be read again: a publish may have gone by unheard (before the subscription, during an outage).</summary>
    public bool NeedsCatchUp { get; set; }

    /// <summary>A drive (the one task that talks to Redis for this key) is running.</summary>
    public bool Driving { get; set; }

    /// <summary>The last drive failed (Redis unreachable); the registry's repair starts it again.</summary>
    public bool Failed { get; set; }

    /// <summary>Taken out of the registry: a new waiter makes a new channel.</summary>
    public bool Removed { get; set; }

    /// <summary>
    /// Takes (epoch, version) if it is newer than the known one. A different epoch is newer: the hash was created
    /// anew (Redis restarted empty, or the version expired) and published to since.
    /// </summary>
    public bool Advance(string? epoch, long version)
    {
        if (epoch is null || version <= 0) return false; // no hash: nothing was ever published (or it is gone)
        if (epoch == KnownEpoch && version <= KnownVersion) return false;
        KnownEpoch = epoch;
        KnownVersion = version;
        return true;
    }
}

/// <summary>A standing listener of a key (see <see cref="RedisFutures.Subscribe"/>).</summary>
internal sealed class KeyListener(KeyRegistry registry, string key, Action<string> onMessage) : IDisposable
{
    public string Key { get; } = key;

    public Action<string> OnMessage { get; } = onMessage;

    /// <summary>The key's state while the listener is on it; null once disposed (guarded by the registry's lock).</summary>
    public KeyChannel? Channel { get; set; }

    public void Dispose() => registry.RemoveListener(this);
}
