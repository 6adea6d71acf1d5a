namespace Snow.Native;

/// <summary>
/// A publish through <see cref="RedisFutures.PublishAsync"/> that Redis did not confirm. Publishes are not retried:
/// a retry after a lost reply would publish twice, and a second publish completes waiters that came after the
/// first. <see cref="MayHaveBeenDelivered"/> says which case this is; the caller decides whether to publish again.
/// </summary>
public sealed class KeyedPublishException : IOException
{
    /// <summary>A publish on <paramref name="key"/> failed; <paramref name="mayHaveBeenDelivered"/> tells whether it may have reached Redis.</summary>
    public KeyedPublishException(string key, bool mayHaveBeenDelivered, Exception innerException)
        : base(Describe(key, mayHaveBeenDelivered, innerException), innerException)
    {
        Key = key;
        MayHaveBeenDelivered = mayHaveBeenDelivered;
    }

    /// <summary>The key that was published to.</summary>
    public string Key { get; }

    /// <summary>
    /// False when the publish never reached Redis (no connection): nobody was completed. True when it was sent but
    /// no reply came in time: it may or may not have run.
    /// </summary>
    public bool MayHaveBeenDelivered { get; }

    private static string Describe(string key, bool mayHaveBeenDelivered, Exception inner) => mayHaveBeenDelivered
        ? $"The publish to key '{key}' was sent to Redis but not confirmed ({inner.Message}); it may or may not have completed the waiters."
        : $"Redis is unreachable: the publish to key '{key}' was not sent and completed nobody ({inner.Message}). Waiters stay parked.";
}
