using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// Starting a WebSocket once its 101 is written (the async session, or the onOpen callback) and handling the end of the
// session's task: the connection's beginning and its normal end, apart from the frame-by-frame work.
public sealed partial class WebSocketConnection
{
    /// <summary>Posted once the 101 is written: starts the session (or calls onOpen), then reads what came.</summary>
    private void Begin()
    {
        if (_closed) return;
        _started = true;
        if (_settings.KeepAliveMilliseconds > 0) _transport.SetTimer(TimerReason.Protocol, _settings.KeepAliveMilliseconds);
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_transport.Loop.SynchronizationContext); // awaits resume on the loop
        try
        {
            if (_handlers.Session is { } session)
            {
                Task task;
                try
                {
                    task = session(this) ?? Task.CompletedTask;
                }
                catch (Exception e)
                {
                    task = Task.FromException(e);
                }
                if (task.IsCompleted)
                {
                    OnSessionEnded(task);
                }
                else
                {
                    // One delegate bound to this connection is all a running session costs here (no closure).
                    _session = task;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(SessionTaskCompleted);
                }
            }
            else
            {
                try
                {
                    _handlers.OnOpen?.Invoke(this);
                }
                catch (Exception e)
                {
                    WebSocketLog.CallbackFailed(_transport.Logger, e, "onOpen callback");
                    Fail(WebSocketCloseCode.InternalError, "internal error");
                }
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
        Process();
        _transport.Flush();
    }

    /// <summary>The session's task completed (on whatever thread completed it): its end is handled on the loop.</summary>
    private void SessionTaskCompleted() => _transport.Loop.Invoke(static state =>
    {
        var connection = (WebSocketConnection)state!;
        Task session = connection._session!;
        connection._session = null;
        connection.OnSessionEnded(session);
    }, this);

    private void OnSessionEnded(Task session)
    {
        if (session.IsFaulted)
        {
            WebSocketLog.CallbackFailed(_transport.Logger, session.Exception!.GetBaseException(), "session");
            Fail(WebSocketCloseCode.InternalError, "internal error");
        }
        else
        {
            BeginClose(WebSocketCloseCode.NormalClosure, null);
        }
        if (!_closed) _transport.Flush();
    }
}
