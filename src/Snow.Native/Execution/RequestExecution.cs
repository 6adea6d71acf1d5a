using Microsoft.Extensions.Logging;

namespace Snow.Native.Execution;

/// <summary>
/// Runs one request's handler, of whichever kind: a plain handler answers at once; an iterator handler runs until
/// it yields a future that is not ready, and parks; an async handler that does not complete at once parks until
/// its task does. A parked request costs no CPU: the future (or the task) wakes it, from any thread, by posting to
/// the loop, where the handler resumes. A handler that throws, or answers null, gets a 500 and a log line. When
/// the client leaves first, the execution is abandoned: its future forgets it, and a task's eventual result is
/// dropped. The common case, a handler that answers at once, creates no execution object at all.
/// </summary>
internal sealed class RequestExecution : IFutureWaiter
{
    private readonly LoopExecutions _context;
    private IExecutionOwner? _owner;
    private HttpRequest? _request;
    private Route? _route;
    private IEnumerator<Step>? _iterator;
    private Future? _parkedOn;
    // A pending async handler: a ValueTask of either result type, or a Task (of HttpResponseBase or of HttpResponse).
    private ValueTask<HttpResponseBase> _pendingValueTask;
    private ValueTask<HttpResponse> _pendingValueTaskOfResponse;
    private Task? _pendingTask;
    private bool _pendingIsOfResponse;
    private Action? _onTaskCompleted;
    private bool _abandoned;

    internal RequestExecution(LoopExecutions context)
    {
        _context = context;
    }

    /// <summary>The request being executed.</summary>
    public HttpRequest Request => _request!;

    // Responses are only read by the server, so one instance serves every unmatched request.
    private static readonly HttpResponse NotFound = new HttpNotFound();

    private static readonly HttpResponse BadPath = CreateBadPath();

    /// <summary>
    /// Routes the request: the route to run, or null with the answer to give instead (404, 405, or 400 for a path
    /// the server refuses to decode, which also closes the connection).
    /// </summary>
    public static Route? Route(LoopExecutions context, HttpRequest request, out HttpResponseBase? answer)
    {
        if (!request.TryDecodePath())
        {
            answer = BadPath;
            return null;
        }
        RouteMatch match = context.Router.Match(request);
        if (match.Route is null)
        {
            if (match.MethodNotAllowed)
            {
                var notAllowed = new HttpResponse("Method Not Allowed\n", 405, "text/plain; charset=utf-8");
                notAllowed.Headers.Add("Allow", match.AllowedMethods!);
                answer = notAllowed;
                return null;
            }
            answer = NotFound;
            return null;
        }
        request.MatchedRoute = match.Route;
        request.RouteMatch = match.Groups;
        answer = null;
        return match.Route;
    }

    /// <summary>
    /// Runs <paramref name="route"/>'s handler: the response if it answered at once; otherwise null, and
    /// <paramref name="pending"/> is the execution that will tell <paramref name="owner"/> later.
    /// </summary>
    public static HttpResponseBase? Start(LoopExecutions context, HttpRequest request, Route route, IExecutionOwner owner, out RequestExecution? pending)
    {
        pending = null;
        RequestExecution? rented = null;
        try
        {
            switch (route.Kind)
            {
                case HandlerKind.Plain:
                    return ((Func<HttpRequest, HttpResponseBase>)route.Handler)(request) ?? NullResponse(context, request, route);
                case HandlerKind.Iterator:
                {
                    IEnumerator<Step> iterator = ((Func<HttpRequest, IEnumerable<Step>>)route.Handler)(request).GetEnumerator();
                    HttpResponseBase? response = Advance(iterator, request, out Future? parkOn);
                    if (response is not null) return response;
                    RequestExecution execution = rented = context.Rent(owner, request, route);
                    execution._iterator = iterator;
                    if (execution.Park(parkOn!, out response))
                    {
                        pending = execution;
                        return null;
                    }
                    execution.Release();
                    return response;
                }
                case HandlerKind.AsyncValueTask when route.AnswersHttpResponse:
                {
                    ValueTask<HttpResponse> task = ((Func<HttpRequest, ValueTask<HttpResponse>>)route.Handler)(request);
                    if (task.IsCompleted) return task.Result ?? NullResponse(context, request, route);
                    RequestExecution execution = context.Rent(owner, request, route);
                    execution._pendingValueTaskOfResponse = task;
                    execution._pendingIsOfResponse = true;
                    pending = execution;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(execution._onTaskCompleted ??= execution.OnTaskCompleted);
                    return null;
                }
                case HandlerKind.AsyncValueTask:
                {
                    ValueTask<HttpResponseBase> task = ((Func<HttpRequest, ValueTask<HttpResponseBase>>)route.Handler)(request);
                    if (task.IsCompleted) return task.Result ?? NullResponse(context, request, route);
                    RequestExecution execution = context.Rent(owner, request, route);
                    execution._pendingValueTask = task;
                    pending = execution;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(execution._onTaskCompleted ??= execution.OnTaskCompleted);
                    return null;
                }
                default:
                {
                    Task task = route.AnswersHttpResponse
                        ? ((Func<HttpRequest, Task<HttpResponse>>)route.Handler)(request)
                        : ((Func<HttpRequest, Task<HttpResponseBase>>)route.Handler)(request);
                    if (task.IsCompleted) return ResultOf(task, route.AnswersHttpResponse) ?? NullResponse(context, request, route);
                    RequestExecution execution = context.Rent(owner, request, route);
                    execution._pendingTask = task;
                    execution._pendingIsOfResponse = route.AnswersHttpResponse;
                    pending = execution;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(execution._onTaskCompleted ??= execution.OnTaskCompleted);
                    return null;
                }
            }
        }
        catch (Exception e)
        {
            if (rented is not null && pending is null) rented.Release();
            pending = null;
            return Failed(context, request, route, e);
        }
    }

    /// <summary>The client left (or the connection closed) before the response: stop waiting for it.</summary>
    public void Abandon()
    {
        if (_abandoned) return;
        _abandoned = true;
        _request?.MarkAborted();
        if (_parkedOn is not null)
        {
            _parkedOn.RemoveWaiter(this);
            _parkedOn = null;
        }
        DropIterator();
        // A pending task keeps the execution until it completes: its result is dropped then.
        if (!HasPendingTask) Release();
    }

    /// <summary>Gives the execution back to its loop's pool once its owner is done with it.</summary>
    public void Release()
    {
        DropIterator();
        _owner = null;
        _request = null;
        _route = null;
        _parkedOn = null;
        _pendingTask = null;
        _pendingValueTask = default;
        _pendingValueTaskOfResponse = default;
        _pendingIsOfResponse = false;
        _abandoned = false;
        _context.Return(this);
    }

    internal void Begin(IExecutionOwner owner, HttpRequest request, Route route)
    {
        _owner = owner;
        _request = request;
        _route = route;
        _abandoned = false;
    }

    void IFutureWaiter.OnFutureReady(Future future) =>
        _context.Loop.Post(static state => ((RequestExecution)state!).ResumeParked(), this);

    /// <summary>Parks on <paramref name="future"/>; false, with the response, when it was ready already and the handler answered.</summary>
    private bool Park(Future future, out HttpResponseBase? response)
    {
        while (true)
        {
            _parkedOn = future;
            if (future.TryAddWaiter(this))
            {
                response = null;
                return true;
            }
            _parkedOn = null; // became ready meanwhile: go on at once
            response = Continue(future, out Future? next);
            if (response is not null) return false;
            future = next!;
        }
    }

    /// <summary>After <paramref name="future"/> is ready: its callback answers, or the iterator goes on.</summary>
    private HttpResponseBase? Continue(Future future, out Future? parkOn)
    {
        parkOn = null;
        if (future.Callback is { } callback)
        {
            DropIterator();
            return Answer(callback, _request!, future);
        }
        return Advance(_iterator!, _request!, out parkOn);
    }

    /// <summary>Runs an iterator until it answers, or yields a future that is not ready (then null and <paramref name="parkOn"/>).</summary>
    private static HttpResponseBase? Advance(IEnumerator<Step> iterator, HttpRequest request, out Future? parkOn)
    {
        while (true)
        {
            if (!iterator.MoveNext())
            {
                iterator.Dispose();
                throw new InvalidOperationException("The iterator handler finished without yielding a response.");
            }
            Step step = iterator.Current;
            if (step.Response is HttpResponseBase response)
            {
                iterator.Dispose();
                parkOn = null;
                return response;
            }
            Future future = step.Future ?? throw new InvalidOperationException("The iterator handler yielded an empty step.");
            if (!future.IsReady)
            {
                parkOn = future;
                return null;
            }
            if (future.Callback is { } callback)
            {
                iterator.Dispose();
                parkOn = null;
                return Answer(callback, request, future);
            }
        }
    }

    private static HttpResponseBase Answer(Func<HttpRequest, Future, HttpResponseBase> callback, HttpRequest request, Future future) =>
        callback(request, future) ?? throw new InvalidOperationException("The future's callback returned null.");

    private void ResumeParked()
    {
        if (_abandoned || _parkedOn is not { IsReady: true } future) return;
        _parkedOn = null;
        HttpResponseBase? response;
        try
        {
            response = Continue(future, out Future? next);
            if (response is null && Park(next!, out response)) return;
        }
        catch (Exception e)
        {
            DropIterator();
            response = Failed(_context, _request!, _route, e);
        }
        _owner!.OnResponseReady(this, response!);
    }

    private void OnTaskCompleted()
    {
        if (_context.Loop.IsOnLoopThread) ResumeAsync();
        else _context.Loop.Post(static state => ((RequestExecution)state!).ResumeAsync(), this);
    }

    private void ResumeAsync()
    {
        if (_abandoned)
        {
            AbandonTaskResult();
            Release();
            return;
        }
        HttpResponseBase response;
        try
        {
            response = TakePendingResult() ?? NullResponse(_context, _request!, _route);
        }
        catch (Exception e)
        {
            response = Failed(_context, _request!, _route, e);
        }
        _owner!.OnResponseReady(this, response);
    }

    /// <summary>
    /// An async handler finished after its client left: a streamed response it returned has no one to stream to,
    /// so it is aborted (its producer learns of it from IsAborted) instead of taking writes for ever.
    /// </summary>
    private void AbandonTaskResult()
    {
        HttpResponseBase? response = null;
        try
        {
            response = TakePendingResult();
        }
        catch (Exception)
        {
            // observed: nobody is left to answer
        }
        (response as StreamingResponse)?.AbortUnclaimed();
    }

    private bool HasPendingTask => _pendingTask is not null || _pendingValueTask != default || _pendingValueTaskOfResponse != default;

    /// <summary>The result of the completed pending task (throws what it threw), clearing it.</summary>
    private HttpResponseBase? TakePendingResult()
    {
        if (_pendingTask is Task task)
        {
            _pendingTask = null;
            return ResultOf(task, _pendingIsOfResponse);
        }
        if (_pendingIsOfResponse)
        {
            ValueTask<HttpResponse> ofResponse = _pendingValueTaskOfResponse;
            _pendingValueTaskOfResponse = default;
            return ofResponse.Result;
        }
        ValueTask<HttpResponseBase> valueTask = _pendingValueTask;
        _pendingValueTask = default;
        return valueTask.Result;
    }

    private static HttpResponseBase? ResultOf(Task task, bool ofResponse) => ofResponse
        ? ((Task<HttpResponse>)task).GetAwaiter().GetResult()
        : ((Task<HttpResponseBase>)task).GetAwaiter().GetResult();

    private void DropIterator()
    {
        _iterator?.Dispose();
        _iterator = null;
    }

    /// <summary>The 500 for a handler that failed (logged with its route and request).</summary>
    public static HttpResponse Failed(LoopExecutions context, HttpRequest request, Route? route, Exception e)
    {
        ExecutionLog.HandlerFailed(context.Logger, e, route?.ToString() ?? "(async)", request.ToString());
        return new HttpResponse("Internal Server Error\n", 500, "text/plain; charset=utf-8");
    }

    private static HttpResponse NullResponse(LoopExecutions context, HttpRequest request, Route? route) =>
        Failed(context, request, route, new InvalidOperationException("The handler returned null instead of a response."));

    private static HttpResponse CreateBadPath()
    {
        var response = new HttpResponse("Bad Request: invalid percent-encoding in the path\n", 400, "text/plain; charset=utf-8");
        response.Headers.Add("Connection", "close");
        return response;
    }
}
