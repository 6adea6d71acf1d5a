using System.Threading.Tasks.Sources;
using Snow.Native.WebSockets;

namespace Snow.Native;

// Handing a complete message over: to the onMessage callback, or to the pending ReceiveAsync (the connection is its
// IValueTaskSource); apart from reading frames because it is where the two receiving styles differ.
public sealed partial class WebSocketConnection : IValueTaskSource<WebSocketMessage>
{
    private void Deliver(WebSocketMessage message)
    {
        if (_handlers.OnMessage is { } onMessage)
        {
            try
            {
                onMessage(this, message);
            }
            catch (Exception e)
            {
                WebSocketLog.CallbackFailed(_transport.Logger, e, "onMessage callback");
                Fail(WebSocketCloseCode.InternalError, "internal error");
            }
            if (!_inFrame) ReleaseMessage(); // idle connections hold no message buffer
            return;
        }
        CompleteReceive(message);
    }

    /// <summary>Posted or run by <see cref="ReceiveAsync"/>: the previous message is done with; read the next.</summary>
    private void BeginReceive()
    {
        if (_closed || _closeReceived)
        {
            _receiving = true;
            CompleteReceive(CloseMessage());
            return;
        }
        if (!_inFrame) ReleaseMessage();
        _receiving = true;
        Process();
        if (!_inTransportCall && !_closed) _transport.Flush(); // input was consumed: the transport may read again
    }

    private void CompleteReceive(WebSocketMessage message)
    {
        _receiving = false;
        Volatile.Write(ref _receiveBusy, 0);
        // A message's data is always the start of the connection's message buffer (or nothing).
        if (message.Data.IsEmpty)
        {
            _receivedBuffer = null;
            _receivedLength = 0;
        }
        else
        {
            bool whole = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(message.Data, out ArraySegment<byte> segment);
            System.Diagnostics.Debug.Assert(whole && segment.Offset == 0, "a received message starts its buffer");
            _receivedBuffer = segment.Array;
            _receivedLength = segment.Count;
        }
        _receive.SetResult(message.Kind); // runs the continuation inline, or posts it to the loop's context
    }

    WebSocketMessage IValueTaskSource<WebSocketMessage>.GetResult(short token)
    {
        WebSocketMessageKind kind = _receive.GetResult(token);
        if (kind == WebSocketMessageKind.Close) return CloseMessage();
        byte[]? buffer = _receivedBuffer;
        _receivedBuffer = null; // the message buffer itself stays the connection's until the next receive
        return new WebSocketMessage(kind, buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(buffer, 0, _receivedLength));
    }

    ValueTaskSourceStatus IValueTaskSource<WebSocketMessage>.GetStatus(short token) => _receive.GetStatus(token);

    void IValueTaskSource<WebSocketMessage>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _receive.OnCompleted(continuation, state, token, flags);
}
