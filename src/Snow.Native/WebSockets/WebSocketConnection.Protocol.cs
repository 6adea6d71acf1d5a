using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// The transport's calls into a WebSocket, on the loop thread (input, output sent, end of stream, the keep-alive and
// close timers, shutdown, closed), and the connection state they share with the other WebSocketConnection.*.cs parts.
public sealed partial class WebSocketConnection : IConnectionProtocol
{
    private bool _started;
    private bool _processing;
    private bool _inTransportCall;  // the transport flushes when the call returns
    private bool _closeSent;
    private bool _closeReceived;
    private bool _closed;
    private bool _pingOutstanding;
    private bool _heardSincePing;
    private int _closeStatus;

    // ---- IConnectionProtocol: the transport's calls, on the loop. ----

    void IConnectionProtocol.OnInput()
    {
        _heardSincePing = true;
        _inTransportCall = true;
        try
        {
            Process();
        }
        finally
        {
            _inTransportCall = false;
        }
    }

    void IConnectionProtocol.OnOutputSent()
    {
        TaskCompletionSource<bool>? waiter = null;
        lock (Gate)
        {
            _queued = PendingLength + _transport.OutputPending;
            if (DrainWaiter is not null && _queued < _settings.MaxQueuedBytes)
            {
                waiter = DrainWaiter;
                DrainWaiter = null;
            }
        }
        waiter?.TrySetResult(true);
    }

    void IConnectionProtocol.OnPeerClosed() => _transport.Close(); // an end of stream without (or after) a close frame

    void IConnectionProtocol.OnTimeout(TimerReason reason)
    {
        if (_closeSent)
        {
            _transport.Close(); // the close handshake took too long
            return;
        }
        if (_pingOutstanding && !_heardSincePing)
        {
            WebSocketLog.PeerSilent(_transport.Logger);
            _transport.Close();
            return;
        }
        _inTransportCall = true;
        try
        {
            WriteOnLoop(WebSocketOpcode.Ping, default);
        }
        finally
        {
            _inTransportCall = false;
        }
        _pingOutstanding = true;
        _heardSincePing = false;
        _transport.SetTimer(TimerReason.Protocol, _settings.KeepAliveMilliseconds);
    }

    void IConnectionProtocol.OnShutdown()
    {
        _inTransportCall = true;
        try
        {
            BeginClose(WebSocketCloseCode.GoingAway, "server stopping");
        }
        finally
        {
            _inTransportCall = false;
        }
    }

    void IConnectionProtocol.OnClosed()
    {
        TaskCompletionSource<bool>? waiter;
        TaskCompletionSource? completion;
        lock (Gate)
        {
            _closed = true;
            waiter = DrainWaiter;
            DrainWaiter = null;
            completion = CompletionSource;
            PendingLength = 0;
            if (PendingFrames is not null) System.Buffers.ArrayPool<byte>.Shared.Return(PendingFrames);
            PendingFrames = null;
            _queued = 0;
        }
        if (!_closeReceived) _closeStatus = WebSocketCloseCode.Abnormal;
        LeaveTopics();
        lock (Gate)
        {
            Deflater?.Dispose();
            Deflater = null;
        }
        _messageLength = 0;
        ReleaseMessage();
        waiter?.TrySetResult(false);
        if (_receiving) CompleteReceive(CloseMessage());
        completion?.TrySetResult();
        if (_handlers.OnClosed is { } onClosed)
        {
            try
            {
                onClosed(this);
            }
            catch (Exception e)
            {
                WebSocketLog.OnClosedFailed(_transport.Logger, e);
            }
        }
    }
}
