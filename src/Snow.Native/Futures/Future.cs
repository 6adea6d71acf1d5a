using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Snow.Native;

/// <summary>
/// A value that becomes ready later, as in the original Snow. A handler parks its request on a future (by yielding
/// it, or by awaiting it); anyone, on any thread or loop, completes it once: with a value (<see cref="SetResult"/>),
/// an exception (<see cref="SetException"/>) or a cancellation (<see cref="SetCanceled"/>). That wakes the loop
/// that owns each parked request. Nothing polls a future: a parked request costs no CPU until then.
/// </summary>
/// <remarks>
/// A future that failed or was canceled is ready like any other; reading its <see cref="Result"/> throws the
/// exception (or an <see cref="OperationCanceledException"/>), so the handler that reads it (an iterator that
/// resumes, a callback, an <c>await</c>) throws in turn and its request gets a 500.
/// <see cref="Future{T}"/> is the typed kind: <c>SetResult(T)</c>, a <c>T Result</c>, and <c>await</c> yields a T.
/// </remarks>
public class Future
{
    // _state moves once, under _gate, from Pending to one of the others; it is read without the gate (volatile),
    // and whatever the completer stored before it moved (the result, the failure) is visible to such a reader.
    private const int Pending = 0;
    private const int Succeeded = 1;
    private const int Faulted = 2;
    private const int Canceled = 3;

    private readonly Lock _gate = new();
    private object? _waiters; // null, one IFutureWaiter, or a List<IFutureWaiter>
    private object? _result;
    private ExceptionDispatchInfo? _failure; // what reading Result throws: SetException's exception, or the cancellation
    private volatile int _state;
    private volatile bool _isAbandoned;

    /// <summary>A future without a callback: a handler that awaits it gets its result; an iterator that yields it resumes.</summary>
    public Future()
    {
    }

    /// <param name="callback">Makes the response of the request parked on this future once it is ready.</param>
    public Future(Func<HttpRequest, Future, HttpResponseBase>? callback)
    {
        Callback = callback;
    }

    /// <summary>Makes the response once the future is ready; with none, an iterator handler resumes instead.</summary>
    public Func<HttpRequest, Future, HttpResponseBase>? Callback { get; }

    /// <summary>True once the future is completed, in any of the three ways: a result, an exception, a cancellation.</summary>
    public bool IsReady => _state != Pending;

    /// <summary>True once <see cref="SetException"/> completed the future.</summary>
    public bool IsFaulted => _state == Faulted;

    /// <summary>True once <see cref="SetCanceled"/> completed the future.</summary>
    public bool IsCanceled => _state == Canceled;

    /// <summary>
    /// What reading <see cref="Result"/> throws: the exception given to <see cref="SetException"/>, or the
    /// <see cref="OperationCanceledException"/> of a cancellation; null otherwise.
    /// </summary>
    public Exception? Exception => _state is Faulted or Canceled ? _failure!.SourceException : null;

    /// <summary>
    /// The value given to <see cref="SetResult"/>; null until then. Throws, with its original stack trace, the
    /// exception of a faulted future, and an <see cref="OperationCanceledException"/> for a canceled one.
    /// </summary>
    public object? Result
    {
        get
        {
            int state = _state;
            if (state == Succeeded) return BoxedResult;
            if (state != Pending) _failure!.Throw();
            return null;
        }
    }

    /// <summary>True once every request parked on this future went away (the client disconnected) before it was ready.</summary>
    public bool IsAbandoned => _isAbandoned;

    /// <summary>The result as <typeparamref name="T"/>; throws as <see cref="Result"/> does.</summary>
    public T? GetResult<T>() => Result is T value ? value : default;

    /// <summary>
    /// Makes the future ready with <paramref name="value"/>. Thread-safe; the first completion (of any kind) wins
    /// and returns true, later calls return false and change nothing.
    /// </summary>
    /// <exception cref="ArgumentException">On a <see cref="Future{T}"/>, a value that is not a T.</exception>
    public bool SetResult(object? value = null) => SetBoxedResult(value);

    /// <summary>
    /// Makes the future ready with a failure: reading <see cref="Result"/> (or awaiting the future) throws
    /// <paramref name="exception"/>, keeping the stack trace it had here. First completion wins, as for <see cref="SetResult"/>.
    /// </summary>
    public bool SetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        object? waiters;
        lock (_gate)
        {
            if (_state != Pending) return false;
            _failure = ExceptionDispatchInfo.Capture(exception);
            waiters = MarkCompletedUnderGate(Faulted);
        }
        AfterCompletion(waiters);
        return true;
    }

    /// <summary>
    /// Makes the future ready as canceled: reading <see cref="Result"/> (or awaiting the future) throws an
    /// <see cref="OperationCanceledException"/> carrying <paramref name="cancellationToken"/>. First completion
    /// wins, as for <see cref="SetResult"/>: <c>token.Register(() => future.SetCanceled(token))</c> is harmless if a
    /// result comes first.
    /// </summary>
    public bool SetCanceled(CancellationToken cancellationToken = default)
    {
        object? waiters;
        lock (_gate)
        {
            if (_state != Pending) return false;
            _failure = ExceptionDispatchInfo.Capture(new OperationCanceledException("The future was canceled.", cancellationToken));
            waiters = MarkCompletedUnderGate(Canceled);
        }
        AfterCompletion(waiters);
        return true;
    }

    /// <summary>Lets <c>await future</c> work in async handlers; the continuation runs on the awaiting loop.</summary>
    public FutureAwaiter GetAwaiter() => new(this);

    /// <summary>Called once, after the future became ready (in any way) and before waiters hear of it.</summary>
    protected virtual void OnCompleted()
    {
    }

    /// <summary>The successful result as an object; <see cref="Future{T}"/> keeps its value unboxed and boxes it here.</summary>
    private protected virtual object? BoxedResult => _result;

    /// <summary><see cref="SetResult"/>'s work; <see cref="Future{T}"/> checks the value's type and stores it unboxed.</summary>
    private protected virtual bool SetBoxedResult(object? value)
    {
        object? waiters;
        lock (_gate)
        {
            if (_state != Pending) return false;
            _result = value;
            waiters = MarkCompletedUnderGate(Succeeded);
        }
        AfterCompletion(waiters);
        return true;
    }

    /// <summary>The gate a completion holds while it checks <see cref="IsPendingUnderGate"/> and stores its outcome.</summary>
    private protected Lock Gate => _gate;

    /// <summary>Read under <see cref="Gate"/>: nothing has completed the future yet.</summary>
    private protected bool IsPendingUnderGate => _state == Pending;

    /// <summary>Under <see cref="Gate"/>, after storing the value: marks the future succeeded and takes its waiters.</summary>
    private protected object? MarkSucceededUnderGate() => MarkCompletedUnderGate(Succeeded);

    /// <summary>For a typed result: throws what <see cref="Result"/> throws, and refuses a future not ready yet.</summary>
    private protected void ThrowUnlessSucceeded()
    {
        int state = _state;
        if (state == Succeeded) return;
        if (state == Pending) throw new InvalidOperationException("The future is not ready yet: it has no result to read.");
        _failure!.Throw();
    }

    private object? MarkCompletedUnderGate(int state)
    {
        _state = state;
        object? waiters = _waiters;
        _waiters = null;
        return waiters;
    }

    /// <summary>Outside the gate: the completion hook, then every waiter, once each, on the completing thread.</summary>
    private protected void AfterCompletion(object? waiters)
    {
        OnCompleted();
        if (waiters is IFutureWaiter single)
        {
            single.OnFutureReady(this);
        }
        else if (waiters is List<IFutureWaiter> many)
        {
            foreach (IFutureWaiter waiter in many) waiter.OnFutureReady(this);
        }
    }

    /// <summary>Registers a waiter; false (and nothing registered) if the future is ready already.</summary>
    internal bool TryAddWaiter(IFutureWaiter waiter)
    {
        lock (_gate)
        {
            if (_state != Pending) return false;
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

    /// <summary>
    /// Called when the last request parked on this future went away (its client disconnected, or the server closed it)
    /// while the future was still pending, right after <see cref="IsAbandoned"/> turned true, on that request's loop
    /// thread. A registry that keeps futures (keyed futures, for one) drops it here instead of holding it until a
    /// completion that nobody waits for. It must not throw or block: it runs inside the loop's connection cleanup.
    /// </summary>
    protected virtual void OnAbandoned()
    {
    }

    /// <summary>Removes a waiter that went away; marks the future abandoned when it was the last.</summary>
    internal void RemoveWaiter(IFutureWaiter waiter)
    {
        bool abandonedNow;
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
            abandonedNow = _waiters is null && _state == Pending && !_isAbandoned;
            if (abandonedNow) _isAbandoned = true;
        }
        if (abandonedNow) OnAbandoned();
    }
}

/// <summary>
/// A future of a <typeparamref name="T"/>: <see cref="SetResult(T)"/> stores the value unboxed, <see cref="Result"/>
/// reads it as a T, and <c>await future</c> yields it. It is a <see cref="Future"/>, so an iterator handler yields
/// it and the untyped members work too (<see cref="Future.SetResult(object)"/> takes only a T).
/// </summary>
public class Future<T> : Future
{
    // One delegate for every Future<T> with a callback: it calls the typed callback that the future keeps, so a
    // parked request does not pay a closure and a delegate of its own for the cast.
    private static readonly Func<HttpRequest, Future, HttpResponseBase> InvokeTypedCallback =
        static (request, future) => ((Future<T>)future)._typedCallback!(request, (Future<T>)future);

    private readonly Func<HttpRequest, Future<T>, HttpResponseBase>? _typedCallback;
    private T? _value;

    /// <summary>A typed future without a callback: <c>await</c> yields its T; an iterator that yields it resumes.</summary>
    public Future()
    {
    }

    /// <param name="callback">Makes the response of the request parked on this future once it is ready.</param>
    public Future(Func<HttpRequest, Future<T>, HttpResponseBase>? callback)
        : base(callback is null ? null : InvokeTypedCallback)
    {
        _typedCallback = callback;
    }

    /// <summary>
    /// The value given to <see cref="SetResult(T)"/>. A T has no "nothing yet" value (0 is a real int), so before
    /// the future is ready this throws <see cref="InvalidOperationException"/> rather than answer default; check
    /// <see cref="Future.IsReady"/> first. Throws the exception of a faulted future, with its original stack trace,
    /// and an <see cref="OperationCanceledException"/> for a canceled one.
    /// </summary>
    public new T Result
    {
        get
        {
            ThrowUnlessSucceeded();
            return _value!;
        }
    }

    /// <summary>
    /// Makes the future ready with <paramref name="value"/>. Thread-safe; the first completion (of any kind) wins
    /// and returns true, later calls return false and change nothing.
    /// </summary>
    public bool SetResult(T value)
    {
        object? waiters;
        lock (Gate)
        {
            if (!IsPendingUnderGate) return false;
            _value = value;
            waiters = MarkSucceededUnderGate();
        }
        AfterCompletion(waiters);
        return true;
    }

    /// <summary>Lets <c>T value = await future</c> work in async handlers; the continuation runs on the awaiting loop.</summary>
    public new FutureAwaiter<T> GetAwaiter() => new(this);

    private protected override object? BoxedResult => _value;

    private protected override bool SetBoxedResult(object? value) => value switch
    {
        T typed => SetResult(typed),
        null when default(T) is null => SetResult(default(T)!),
        _ => throw new ArgumentException(
            $"A Future<{typeof(T).Name}> takes a {typeof(T).Name}, not {(value is null ? "null" : value.GetType().Name)}.", nameof(value)),
    };
}

/// <summary>Something parked on a future: told once when it is ready, on whatever thread completed it.</summary>
internal interface IFutureWaiter
{
    void OnFutureReady(Future future);
}

/// <summary>The awaiter of <see cref="Future"/>: resumes on the synchronization context of the awaiting code.</summary>
public readonly struct FutureAwaiter(Future future) : ICriticalNotifyCompletion
{
    /// <summary>Whether the future is ready.</summary>
    public bool IsCompleted => future.IsReady;

    /// <summary>The result; throws the exception of a faulted or canceled future.</summary>
    public object? GetResult() => future.Result;

    /// <summary>Runs <paramref name="continuation"/> once the future is ready.</summary>
    public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

    /// <summary>Runs <paramref name="continuation"/> once the future is ready (the execution context is not captured).</summary>
    public void UnsafeOnCompleted(Action continuation) => ContinuationWaiter.Register(future, continuation);
}

/// <summary>The awaiter of <see cref="Future{T}"/>: resumes on the synchronization context of the awaiting code.</summary>
public readonly struct FutureAwaiter<T>(Future<T> future) : ICriticalNotifyCompletion
{
    /// <summary>Whether the future is ready.</summary>
    public bool IsCompleted => future.IsReady;

    /// <summary>The result; throws the exception of a faulted or canceled future.</summary>
    public T GetResult() => future.Result;

    /// <summary>Runs <paramref name="continuation"/> once the future is ready.</summary>
    public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

    /// <summary>Runs <paramref name="continuation"/> once the future is ready (the execution context is not captured).</summary>
    public void UnsafeOnCompleted(Action continuation) => ContinuationWaiter.Register(future, continuation);
}

/// <summary>An <c>await</c> parked on a future: posts its continuation to the awaiting code's context (the loop).</summary>
internal sealed class ContinuationWaiter(Action continuation, SynchronizationContext? context) : IFutureWaiter
{
    public static void Register(Future future, Action continuation)
    {
        var waiter = new ContinuationWaiter(continuation, SynchronizationContext.Current);
        if (!future.TryAddWaiter(waiter)) waiter.OnFutureReady(future);
    }

    public void OnFutureReady(Future future)
    {
        if (context is not null) context.Post(static state => ((Action)state!)(), continuation);
        else ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
    }
}
