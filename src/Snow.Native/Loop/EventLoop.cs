using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Snow.Native.Polling;

namespace Snow.Native.Loop;

/// <summary>
/// One readiness loop on one thread. Each iteration runs the timers that are due, waits on the poller until the
/// next timer is due (or for ever), dispatches the ready descriptors to their handlers, then runs the work other
/// threads posted. It never polls: a loop with nothing ready and nothing due sleeps in the kernel.
/// Everything but <see cref="Post(Action{object?}, object?)"/>, <see cref="Stop"/> and the read-only properties
/// belongs to the loop's own thread.
/// </summary>
internal sealed class EventLoop : IDisposable
{
    private readonly TimerHeap _timers = new();
    private readonly ConcurrentQueue<WorkItem> _posted = new();
    private readonly ILogger _logger;
    private readonly PollEvent[] _events;
    private IReadinessHandler?[] _handlers = new IReadinessHandler?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _freeSlots = new();
    private int _nextSlot;
    private int _loopThreadId = -1;
    private int _sleeping;
    private volatile bool _stopRequested;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly Func<long>? _clock;

    public EventLoop(IPoller poller, string? name = null, ILogger? logger = null, int maxEventsPerWait = 1024)
        : this(poller, name, logger, maxEventsPerWait, clock: null)
    {
    }

    /// <param name="poller">The loop's own poller, disposed with the loop.</param>
    /// <param name="name">The loop thread's name.</param>
    /// <param name="logger">Where failures of handlers, timers and posted work are logged.</param>
    /// <param name="maxEventsPerWait">The most readiness events taken from one wait.</param>
    /// <param name="clock">Replaces the monotonic clock (milliseconds) for <see cref="NowMilliseconds"/>: tests drive
    /// connection timers with a manual clock instead of waiting.</param>
    internal EventLoop(IPoller poller, string? name, ILogger? logger, int maxEventsPerWait, Func<long>? clock)
    {
        _clock = clock;
        ArgumentNullException.ThrowIfNull(poller);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventsPerWait, 1);
        Poller = poller;
        Name = name ?? "snow-loop";
        _logger = logger ?? NullLogger.Instance;
        _events = new PollEvent[maxEventsPerWait];
        SynchronizationContext = new EventLoopSynchronizationContext(this);
        NowMilliseconds = Now();
    }

    public string Name { get; }

    public IPoller Poller { get; }

    public EventLoopSynchronizationContext SynchronizationContext { get; }

    /// <summary>The loop's millisecond clock (monotonic), read once per wake-up.</summary>
    public long NowMilliseconds { get; private set; }

    /// <summary>
    /// A precise monotonic millisecond clock. Not <see cref="Environment.TickCount64"/>: on Linux that reads the
    /// coarse clock, which lags by up to a scheduler tick and would let timers fire a few milliseconds early.
    /// </summary>
    public static long ClockMilliseconds() => (long)(System.Diagnostics.Stopwatch.GetTimestamp() * TicksToMilliseconds);

    private static readonly double TicksToMilliseconds = 1000.0 / System.Diagnostics.Stopwatch.Frequency;

    public bool IsOnLoopThread => Environment.CurrentManagedThreadId == _loopThreadId;

    public bool IsRunning => _loopThreadId != -1 && !_completion.Task.IsCompleted;

    /// <summary>Completes when <see cref="Run"/> has returned.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Number of timers scheduled and not yet fired or cancelled.</summary>
    public int TimerCount => _timers.Count;

    /// <summary>Number of descriptors registered through this loop.</summary>
    public int RegisteredCount { get; private set; }

    /// <summary>Runs the loop on the calling thread until <see cref="Stop"/>.</summary>
    public void Run()
    {
        if (Interlocked.CompareExchange(ref _loopThreadId, Environment.CurrentManagedThreadId, -1) != -1)
        {
            throw new InvalidOperationException($"Event loop {Name} is already running.");
        }
        SynchronizationContext? previous = System.Threading.SynchronizationContext.Current;
        System.Threading.SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            while (!_stopRequested)
            {
                RunOnce();
            }
            RunPostedWork(); // work posted during shutdown (for example a final completion) still runs
            _completion.TrySetResult();
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
            throw;
        }
        finally
        {
            System.Threading.SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Starts a dedicated background thread that runs the loop.</summary>
    public Thread StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = Name };
        thread.Start();
        return thread;
    }

    /// <summary>Asks the loop to finish its current iteration and return from <see cref="Run"/>. Thread-safe.</summary>
    public void Stop()
    {
        _stopRequested = true;
        Poller.Wake();
    }

    /// <summary>Queues work to run on the loop thread and wakes the loop. Thread-safe; FIFO.</summary>
    public void Post(Action<object?> work, object? state)
    {
        ArgumentNullException.ThrowIfNull(work);
        Enqueue(new WorkItem(work, null, state));
    }

    internal void PostCallback(SendOrPostCallback work, object? state) => Enqueue(new WorkItem(null, work, state));

    /// <summary>Runs <paramref name="work"/> now if called on the loop thread, otherwise posts it.</summary>
    public void Invoke(Action<object?> work, object? state)
    {
        if (IsOnLoopThread) work(state);
        else Post(work, state);
    }

    /// <summary>Schedules <paramref name="callback"/> on this loop after <paramref name="delay"/>. Loop thread only.</summary>
    public LoopTimer Schedule(TimeSpan delay, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _timers.Add(DueAfter(delay), callback, state);
    }

    // +1: the clock counts whole milliseconds, so "now" may be up to 1 ms old; a timer may be late, never early.
    private long DueAfter(TimeSpan delay) => Now() + Math.Max(0, (long)Math.Ceiling(delay.TotalMilliseconds)) + 1;

    /// <summary>
    /// Schedules a timer of this loop that already fired or was cancelled to fire again after <paramref name="delay"/>,
    /// with its callback and state, reusing the object (a periodic timer allocates nothing). Loop thread only.
    /// </summary>
    public void Reschedule(LoopTimer timer, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(timer);
        _timers.Readd(timer, DueAfter(delay));
    }

    /// <summary>Cancels a pending timer; false if it already fired or was cancelled. Loop thread only.</summary>
    public bool Cancel(LoopTimer timer) => _timers.Remove(timer);

    /// <summary>Registers a descriptor and returns the token the poller reports it under. Loop thread only.</summary>
    public long Register(int fd, PollInterest interest, IReadinessHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _nextSlot++;
        if (slot >= _handlers.Length)
        {
            Array.Resize(ref _handlers, _handlers.Length * 2);
            Array.Resize(ref _generations, _generations.Length * 2);
        }
        long token = ((long)_generations[slot] << 32) | (uint)slot;
        try
        {
            Poller.Register(fd, interest, token);
        }
        catch
        {
            _freeSlots.Push(slot);
            throw;
        }
        _handlers[slot] = handler;
        RegisteredCount++;
        return token;
    }

    public void Modify(int fd, PollInterest interest, long token) => Poller.Modify(fd, interest, token);

    /// <summary>Unregisters a descriptor. Events already collected for it in this iteration are dropped.</summary>
    public void Unregister(int fd, long token)
    {
        int slot = (int)(uint)token;
        try
        {
            Poller.Unregister(fd);
        }
        finally
        {
            if (slot < _handlers.Length && _handlers[slot] is not null && _generations[slot] == (uint)(token >> 32))
            {
                _handlers[slot] = null;
                _generations[slot]++; // a stale token for this slot no longer matches
                _freeSlots.Push(slot);
                RegisteredCount--;
            }
        }
    }

    public void Dispose()
    {
        Stop();
        Poller.Dispose();
    }

    private void Enqueue(WorkItem item)
    {
        _posted.Enqueue(item);
        // Wake only a loop that is (about to be) asleep; the loop sets _sleeping with a full fence before it
        // looks at the queue a last time, so one of the two sides always sees the other.
        if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1) Poller.Wake();
    }

    private long Now() => _clock is null ? ClockMilliseconds() : _clock();

    /// <summary>Makes the calling thread this loop's thread without running the loop (tests drive it by hand).</summary>
    internal void BindToCurrentThread()
    {
        if (Interlocked.CompareExchange(ref _loopThreadId, Environment.CurrentManagedThreadId, -1) != -1)
        {
            throw new InvalidOperationException($"Event loop {Name} is already running.");
        }
    }

    /// <summary>Reads the clock, then runs due timers and posted work, without polling (tests drive the loop by hand).</summary>
    internal void RunPending()
    {
        NowMilliseconds = Now();
        RunDueTimers();
        RunPostedWork();
    }

    private void RunOnce()
    {
        NowMilliseconds = Now();
        RunDueTimers();

        int timeout = -1;
        long? nextDue = _timers.NextDue;
        if (nextDue is long due) timeout = (int)Math.Clamp(due - NowMilliseconds, 0, int.MaxValue);

        Interlocked.Exchange(ref _sleeping, 1);
        if (!_posted.IsEmpty || _stopRequested) timeout = 0;
        int count = Poller.Wait(_events, timeout);
        Volatile.Write(ref _sleeping, 0);

        NowMilliseconds = Now();
        for (int i = 0; i < count; i++)
        {
            PollEvent ready = _events[i];
            int slot = (int)(uint)ready.Token;
            if (slot >= _handlers.Length || _generations[slot] != (uint)(ready.Token >> 32)) continue;
            IReadinessHandler? handler = _handlers[slot];
            if (handler is null) continue;
            try
            {
                handler.OnReady(ready.Events);
            }
            catch (Exception e)
            {
                LoopLog.ReadinessHandlerFailed(_logger, e, Name);
            }
        }
        RunPostedWork();
    }

    private void RunDueTimers()
    {
        // Timers scheduled by a firing timer wait for the next iteration unless already due.
        while (_timers.PopDue(NowMilliseconds) is LoopTimer timer)
        {
            try
            {
                timer.Callback(timer.State);
            }
            catch (Exception e)
            {
                LoopLog.TimerFailed(_logger, e, Name);
            }
        }
    }

    private void RunPostedWork()
    {
        // Only what is queued now: work that posts more work cannot starve the poller.
        int budget = _posted.Count;
        while (budget-- > 0 && _posted.TryDequeue(out WorkItem item))
        {
            try
            {
                if (item.Action is not null) item.Action(item.State);
                else item.Callback!(item.State);
            }
            catch (Exception e)
            {
                LoopLog.PostedWorkFailed(_logger, e, Name);
            }
        }
    }

    private readonly record struct WorkItem(Action<object?>? Action, SendOrPostCallback? Callback, object? State);
}
