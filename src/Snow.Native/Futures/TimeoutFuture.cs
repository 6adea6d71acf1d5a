using Snow.Native.Loop;

namespace Snow.Native;

/// <summary>
/// A future that becomes ready by itself after a delay, as in the original Snow. Made on a loop thread (inside a
/// handler) it is an entry in that loop's timer heap; made elsewhere it uses a thread-pool timer. If someone
/// completes it first, the timer is cancelled.
/// </summary>
public sealed class TimeoutFuture : Future
{
    private readonly EventLoop? _loop;
    private readonly LoopTimer? _loopTimer;
    private readonly Timer? _poolTimer;

    /// <summary>A future that becomes ready by itself after <paramref name="seconds"/>, with its delay as the result; <paramref name="callback"/>, if any, then makes the response.</summary>
    public TimeoutFuture(double seconds, Func<HttpRequest, Future, HttpResponseBase>? callback = null)
        : this(TimeSpan.FromSeconds(seconds), callback)
    {
    }

    /// <summary>A future that becomes ready by itself after <paramref name="delay"/>, with the delay as the result; <paramref name="callback"/>, if any, then makes the response.</summary>
    public TimeoutFuture(TimeSpan delay, Func<HttpRequest, Future, HttpResponseBase>? callback = null)
        : base(callback)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Delay = delay;
        if (SynchronizationContext.Current is EventLoopSynchronizationContext context && context.Loop.IsOnLoopThread)
        {
            _loop = context.Loop;
            _loopTimer = _loop.Schedule(delay, static state => ((TimeoutFuture)state!).SetResult(((TimeoutFuture)state!).Delay), this);
        }
        else
        {
            _poolTimer = new Timer(static state => ((TimeoutFuture)state!).SetResult(((TimeoutFuture)state!).Delay), this, delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The delay; also the result once the delay has passed.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Stops the timer once the future is completed, by the delay or by anyone first.</summary>
    protected override void OnCompleted()
    {
        _poolTimer?.Dispose();
        if (_loop is not null && _loopTimer is { IsPending: true } timer)
        {
            _loop.Invoke(static state =>
            {
                var (loop, pending) = ((EventLoop, LoopTimer))state!;
                loop.Cancel(pending);
            }, (_loop, timer));
        }
    }
}
