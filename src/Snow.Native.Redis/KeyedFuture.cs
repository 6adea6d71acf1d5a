namespace Snow.Native;

/// <summary>
/// A request's wait on a key of <see cref="RedisFutures"/>: ready with the message of the next publish to that key
/// from any instance (<see cref="Future{T}.Result"/>), with null when its own timeout passed first
/// (<see cref="IsTimedOut"/>), or canceled by its cancellation token. Made by <see cref="RedisFutures.Wait(string, TimeSpan?, CancellationToken)"/>;
/// parked on like any future (<c>yield return</c> or <c>await</c>). It may also be completed directly
/// (<see cref="Future{T}.SetResult(T)"/>), which answers this request only.
/// </summary>
public sealed class KeyedFuture : Future<string?>
{
    // One delegate for all keyed futures with a callback (see Future<T>): no closure per parked request.
    private static readonly Func<HttpRequest, Future<string?>, HttpResponseBase> InvokeKeyedCallback =
        static (request, future) => ((KeyedFuture)future)._keyedCallback!(request, (KeyedFuture)future);

    private readonly Func<HttpRequest, KeyedFuture, HttpResponseBase>? _keyedCallback;
    private readonly KeyRegistry _registry;
    private TimeoutFuture? _timeout;
    private CancellationTokenRegistration _cancellation;
    private volatile bool _timedOut;

    internal KeyedFuture(KeyRegistry registry, string key, Func<HttpRequest, KeyedFuture, HttpResponseBase>? callback)
        : base(callback is null ? null : InvokeKeyedCallback)
    {
        _keyedCallback = callback;
        _registry = registry;
        Key = key;
    }

    /// <summary>The key this future waits on.</summary>
    public string Key { get; }

    /// <summary>True when the future's own timeout passed before any publish: it is ready and its result is null.</summary>
    public bool IsTimedOut => _timedOut && IsReady;

    /// <summary>
    /// Completes once this wait has taken effect across instances: from then on, any publish to the key that Redis
    /// runs completes this future, even one racing the subscription (the key's version, read before subscribing
    /// and again after, catches it). At once when this process already listens to the key; after one round trip
    /// to Redis for the first waiter on a key; later while Redis is unreachable. Asked of a future that is ready or
    /// left its key, it is complete; one that leaves its key before the version is read completes it once the key
    /// is read or dropped.
    /// </summary>
    public Task Listening => _registry.WhenListening(this);

    /// <summary>The key's state in the registry while the future waits there; null once it left (guarded by the registry's lock).</summary>
    internal KeyChannel? Channel { get; set; }

    internal void StartTimeout(TimeSpan timeout)
    {
        // Made on a loop thread, a TimeoutFuture is an entry in that loop's timer heap; its continuation is posted
        // to the same loop. Completing this future first cancels it (OnCompleted).
        var timer = new TimeoutFuture(timeout);
        _timeout = timer;
        timer.GetAwaiter().UnsafeOnCompleted(() =>
        {
            if (timer.IsCanceled) return;
            _timedOut = true;
            if (!SetResult(null)) _timedOut = false;
        });
    }

    internal void CancelWith(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((KeyedFuture)state!).SetCanceled(token), this);
    }

    /// <summary>Leaves its key (and the key's subscription, after the last waiter) and cancels its own timeout.</summary>
    protected override void OnCompleted()
    {
        _registry.Forget(this);
        _timeout?.SetCanceled();
        _cancellation.Dispose();
    }

    /// <summary>Its client left: the key forgets it.</summary>
    protected override void OnAbandoned()
    {
        // Its client left: nobody waits for this future any more, so the key need not keep it (or its subscription).
        _registry.Forget(this);
        _timeout?.SetCanceled();
        _cancellation.Dispose();
    }
}
