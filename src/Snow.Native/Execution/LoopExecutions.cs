using Microsoft.Extensions.Logging;
using Snow.Native.Loop;

namespace Snow.Native.Execution;

/// <summary>What the executions of one loop share: the loop they resume on, the routes, the log, and a pool of
/// execution objects (only requests that wait hold one).</summary>
internal sealed class LoopExecutions(EventLoop loop, Router router, ILogger logger)
{
    private readonly Stack<RequestExecution> _free = new();
    private int _parked;

    public EventLoop Loop { get; } = loop;

    public Router Router { get; } = router;

    public ILogger Logger { get; } = logger;

    /// <summary>Requests waiting on a future or an unfinished task now; read from any thread.</summary>
    public int ParkedCount => Volatile.Read(ref _parked);

    internal RequestExecution Rent(IExecutionOwner owner, HttpRequest request, Route route)
    {
        RequestExecution execution = _free.Count > 0 ? _free.Pop() : new RequestExecution(this);
        execution.Begin(owner, request, route);
        Interlocked.Increment(ref _parked);
        return execution;
    }

    internal void Return(RequestExecution execution)
    {
        Interlocked.Decrement(ref _parked);
        if (_free.Count < 1024) _free.Push(execution);
    }
}
