using System.Runtime.CompilerServices;

namespace Snow.Native;

/// <summary>
/// A value that becomes ready later, as in the original Snow. A handler parks its request on a future (by yielding
/// it, or by awaiting it); anyone, on any thread or loop, completes it with <see cref="SetResult"/>, which wakes
/// the loop that owns each parked request. Nothing polls a future: a parked request costs no CPU until then.
/// </summary>
public class Future
{
    private readonly Lock _gate = new();
    private object? _waiters; // null, one IFutureWaiter, or a List<IFutureWaiter>
    private object? _result;
    private volatile bool _isReady;
    private volatile bool _isAbandoned;

    public Future()
    {
    }

    /// <param name="callback">Makes the response of the request parked on this future once it is ready.</param>
    public Future(Func<HttpRequest, Future, HttpResponse>? callback)
    {
        Callback = callback;
    }

    /// <summary>Makes the response once the future is ready; with none, an iterator handler resumes instead.</summary>
    public Func<HttpRequest, Future, HttpResponse>? Callback { get; }

    public bool IsReady => _isReady;

    /// <summary>The value given to <see cref="SetResult"/>; null until then.</summary>
    public object? Result => _isReady ? _result : null;

    /// <summary>True once every request parked on this future went away (the client disconnected) before it was ready.</summary>
    public bool IsAbandoned => _isAbandoned;

    /// <summary>The result as <typeparamref name="T"/>.</summary>
    public T? GetResult<T>() => Result is T value ? value : default;

    /// <summary>
    /// Makes the future ready with <paramref name="value"/>. Thread-safe; the first call wins and returns true,
    /// later calls return false and change nothing.
    /// </summary>
    public bool SetResult(object? value = null)
    {
        object? waiters;
        lock (_gate)
        {
            if (_isReady) return false;
            _result = value;
            _isReady = true;
            waiters = _waiters;
            _waiters = null;
        }
        OnCompleted();
        if (waiters is IFutureWaiter single)
        {
            single.OnFutureReady(this);
        }
        else if (waiters is List<IFutureWaiter> many)
        {
            foreach (IFutureWaiter waiter in many) waiter.OnFutureReady(this);
        }
        return true;
    }

    /// <summary>Lets <c>await future</c> work in async handlers; the continuation runs on the awaiting loop.</summary>
    public FutureAwaiter GetAwaiter() => new(this);

    /// <summary>Called once, after the future became ready and before waiters hear of it.</summary>
    protected virtual void OnCompleted()
    {
    }

    /// <summary>Registers a waiter; false (and nothing registered) if the future is ready already.</summary>
    internal bool TryAddWaiter(IFutureWaiter waiter)
    {
        lock (_gate)
        {
            if (_isReady) return false;
            _isAbandoned = false;
            switch (_waiters)
            {
                case null:
                    _waiters = waiter;
                    break;
                case IFutureWaiter existing:
                    _waiters = new List<IFutureWaiter>(2) { existing, waiter };
                    break;
                case List<IFutureWaiter> list:
                    list.Add(waiter);
                    break;
            }
            return true;
        }
    }

    /// <summary>Removes a waiter that went away; marks the future abandoned when it was the last.</summary>
    internal void RemoveWaiter(IFutureWaiter waiter)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_waiters, waiter))
            {
                _waiters = null;
            }
            else if (_waiters is List<IFutureWaiter> list)
            {
                list.Remove(waiter);
                if (list.Count == 0) _waiters = null;
            }
            if (_waiters is null && !_isReady) _isAbandoned = true;
        }
    }
}

/// <summary>Something parked on a future: told once when it is ready, on whatever thread completed it.</summary>
internal interface IFutureWaiter
{
    void OnFutureReady(Future future);
}

/// <summary>The awaiter of <see cref="Future"/>: resumes on the synchronization context of the awaiting code.</summary>
public readonly struct FutureAwaiter(Future future) : ICriticalNotifyCompletion
{
    public bool IsCompleted => future.IsReady;

    public object? GetResult() => future.Result;

    public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

    public void UnsafeOnCompleted(Action continuation)
    {
        var waiter = new ContinuationWaiter(continuation, SynchronizationContext.Current);
        if (!future.TryAddWaiter(waiter)) waiter.OnFutureReady(future);
    }

    private sealed class ContinuationWaiter(Action continuation, SynchronizationContext? context) : IFutureWaiter
    {
        public void OnFutureReady(Future future)
        {
            if (context is not null) context.Post(static state => ((Action)state!)(), continuation);
            else ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
        }
    }
}
