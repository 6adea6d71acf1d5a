using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using System.Threading.Tasks.Sources;
using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// The protocol side of a WebSocket: what the transport tells it (on the loop thread), the reading of frames into
// messages with every rule a server enforces, control frames, the close handshake and the keep-alive ping.
public sealed partial class WebSocketConnection : IConnectionProtocol, IValueTaskSource<WebSocketMessage>
{
    // The frame being read (its head is consumed; _frameRead of its payload too).
    private FrameHead _head;
    private bool _inFrame;
    private long _frameRead;
    // The message being assembled from its frames: its opcode (Continuation when none is), its bytes so far.
    private WebSocketOpcode _messageOpcode;
    private byte[]? _message;
    private int _messageLength;

    // permessage-deflate (what was agreed and the zlib state are in WebSocketConnection.Rare.cs): whether the message
    // being assembled is compressed (RSV1 on its first frame).
    private bool _messageCompressed;

    /// <summary>Messages shorter than this go uncompressed: deflate would not make them smaller.</summary>
    private const int MinCompressedBytes = 64;

    private bool _started;
    private bool _processing;
    private bool _inTransportCall;  // the transport flushes when the call returns
    private bool _closeSent;
    private bool _closeReceived;
    private bool _closed;
    private bool _pingOutstanding;
    private bool _heardSincePing;
    private int _closeStatus;

    private bool CallbackStyle => _handlers.OnMessage is not null;

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

    // ---- Starting and ending. ----

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

    /// <summary>Sends a close frame (unless one was sent) and waits, within the close timeout, for the peer's.</summary>
    private void BeginClose(int code, string? reason)
    {
        if (_closed || _closeSent) return;
        WriteClose(code, reason);
        if (_closeReceived) return; // answered the peer's close: the transport is closing already
        _transport.SetTimer(TimerReason.Protocol, _settings.CloseMilliseconds);
        Process(); // the peer's close may be waiting behind messages nobody will read now
        if (!_inTransportCall && !_closed) _transport.Flush();
    }

    /// <summary>Fails the connection (RFC 6455 section 7.1.7): the close code, if no close frame went yet, then the end.</summary>
    private void Fail(int code, string reason)
    {
        if (_closed) return;
        WebSocketLog.Failed(_transport.Logger, code, reason);
        if (!_closeSent) WriteClose(code, reason);
        _closeStatus = _closeReceived ? _closeStatus : code;
        _closeReceived = true; // nothing more is read
        if (_receiving) CompleteReceive(CloseMessage());
        _transport.CloseWhenFlushed(_settings.CloseMilliseconds);
    }

    private void WriteClose(int code, string? reason)
    {
        Span<byte> payload = stackalloc byte[WebSocketFrameCodec.MaxControlPayload];
        int length = 0;
        if (code != WebSocketCloseCode.NoStatus)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
            length = 2;
            if (!string.IsNullOrEmpty(reason))
            {
                // The callers' reasons fit; a truncated one could split a character, so it is dropped instead.
                if (Encoding.UTF8.GetByteCount(reason) <= payload.Length - 2) length += Encoding.UTF8.GetBytes(reason, payload[2..]);
            }
        }
        WriteOnLoop(WebSocketOpcode.Close, payload[..length]);
    }

    // ---- Reading frames. ----

    private void Process()
    {
        if (_processing || _closed) return;
        _processing = true;
        try
        {
            while (Step())
            {
            }
        }
        finally
        {
            _processing = false;
        }
    }

    /// <summary>Reads one frame head, one control frame or one piece of payload; false when it cannot go on now.</summary>
    private bool Step()
    {
        if (_closed || _closeReceived || !_started) return false;
        if (!CallbackStyle && !_receiving && !_closeSent) return false; // nobody reads: the client waits in TCP
        ref InputBuffer input = ref _transport.Input;
        if (!_inFrame)
        {
            FrameHeadStatus status = WebSocketFrameCodec.TryReadHead(input.Span, allowRsv1: NegotiatedDeflate is not null, out FrameHead head, out string error);
            if (status == FrameHeadStatus.NeedMoreData) return false;
            if (status == FrameHeadStatus.Error)
            {
                Fail(WebSocketCloseCode.ProtocolError, error);
                return false;
            }
            if (head.IsControl)
            {
                int total = head.HeadLength + (int)head.PayloadLength;
                if (input.Length < total) return false; // a control frame is read whole (at most 139 bytes)
                Span<byte> payload = stackalloc byte[WebSocketFrameCodec.MaxControlPayload];
                payload = payload[..(int)head.PayloadLength];
                input.Span.Slice(head.HeadLength, payload.Length).CopyTo(payload);
                input.Consume(total);
                WebSocketFrameCodec.Unmask(payload, head.MaskKey, 0);
                OnControl(head.Opcode, payload);
                return true;
            }
            if (head.Opcode == WebSocketOpcode.Continuation && _messageOpcode == WebSocketOpcode.Continuation)
            {
                Fail(WebSocketCloseCode.ProtocolError, "a continuation frame without a message to continue");
                return false;
            }
            if (head.Opcode != WebSocketOpcode.Continuation && _messageOpcode != WebSocketOpcode.Continuation)
            {
                Fail(WebSocketCloseCode.ProtocolError, "a new message began before the fragmented one was finished");
                return false;
            }
            if (head.Rsv1 && head.Opcode == WebSocketOpcode.Continuation)
            {
                Fail(WebSocketCloseCode.ProtocolError, "RSV1 is set on a continuation frame");
                return false;
            }
            if (_messageLength + head.PayloadLength > _settings.MaxMessageBytes)
            {
                Fail(WebSocketCloseCode.MessageTooBig, "message too big");
                return false;
            }
            input.Consume(head.HeadLength);
            if (head.Opcode != WebSocketOpcode.Continuation)
            {
                _messageOpcode = head.Opcode;
                _messageCompressed = head.Rsv1;
            }
            _head = head;
            _inFrame = true;
            _frameRead = 0;
        }
        long remaining = _head.PayloadLength - _frameRead;
        if (remaining > 0)
        {
            int count = (int)Math.Min(remaining, input.Length);
            if (count == 0) return false;
            Span<byte> target = MessageRoom(count);
            input.Span[..count].CopyTo(target);
            input.Consume(count);
            WebSocketFrameCodec.Unmask(target, _head.MaskKey, _frameRead);
            _frameRead += count;
            _messageLength += count;
            if (_frameRead < _head.PayloadLength) return true;
        }
        _inFrame = false;
        if (!_head.Fin) return true;

        WebSocketOpcode opcode = _messageOpcode;
        int length = _messageLength;
        _messageOpcode = WebSocketOpcode.Continuation;
        _messageLength = 0;
        ReadOnlyMemory<byte> data = _message is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_message, 0, length);
        if (_messageCompressed && !Inflate(data, out data)) return false;
        if (opcode == WebSocketOpcode.Text && !Utf8.IsValid(data.Span))
        {
            Fail(WebSocketCloseCode.InvalidPayloadData, "a text message is not valid UTF-8");
            return false;
        }
        if (_closeSent) return true; // closing: messages still arriving are dropped
        Deliver(new WebSocketMessage(opcode == WebSocketOpcode.Text ? WebSocketMessageKind.Text : WebSocketMessageKind.Binary, data));
        return true;
    }

    /// <summary>Inflates a compressed message into a new message buffer, stopping at the size limit (1009) or bad data (1007).</summary>
    private bool Inflate(ReadOnlyMemory<byte> compressed, out ReadOnlyMemory<byte> data)
    {
        data = default;
        lock (Gate) Deflater ??= new MessageDeflater(NegotiatedDeflate!, _settings.CompressionLevel);
        byte[]? output = null;
        int length;
        try
        {
            length = Deflater.Decompress(compressed, ref output, _settings.MaxMessageBytes, _transport.Pool);
        }
        catch (InvalidDataException)
        {
            if (output is not null) _transport.Pool.Return(output);
            Fail(WebSocketCloseCode.InvalidPayloadData, "a compressed message is not valid deflate data");
            return false;
        }
        if (length < 0)
        {
            _transport.Pool.Return(output!);
            Fail(WebSocketCloseCode.MessageTooBig, "message too big once inflated");
            return false;
        }
        if (_message is not null) _transport.Pool.Return(_message);
        _message = output;
        data = new ReadOnlyMemory<byte>(output, 0, length);
        return true;
    }

    /// <summary>The payload as it goes on the wire: compressed (RSV1) when deflate was agreed and it is worth it. Under the gate.</summary>
    private ReadOnlySpan<byte> Encode(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, out bool rsv1)
    {
        rsv1 = false;
        if (NegotiatedDeflate is null || opcode > WebSocketOpcode.Binary || payload.Length < MinCompressedBytes) return payload;
        Deflater ??= new MessageDeflater(NegotiatedDeflate, _settings.CompressionLevel);
        rsv1 = true;
        return Deflater.Compress(payload);
    }

    private void OnControl(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        switch (opcode)
        {
            case WebSocketOpcode.Ping:
                if (!_closeSent) WriteOnLoop(WebSocketOpcode.Pong, payload);
                return;
            case WebSocketOpcode.Pong:
                _pingOutstanding = false;
                return;
        }
        // Close.
        int code = WebSocketCloseCode.NoStatus;
        string reason = "";
        if (payload.Length == 1)
        {
            Fail(WebSocketCloseCode.ProtocolError, "a close frame with a one-byte payload");
            return;
        }
        if (payload.Length >= 2)
        {
            code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!WebSocketFrameCodec.IsValidCloseCode(code))
            {
                Fail(WebSocketCloseCode.ProtocolError, $"close code {code} may not be sent");
                return;
            }
            if (!Utf8.IsValid(payload[2..]))
            {
                Fail(WebSocketCloseCode.InvalidPayloadData, "a close reason is not valid UTF-8");
                return;
            }
            reason = Encoding.UTF8.GetString(payload[2..]);
        }
        _closeReceived = true;
        _closeStatus = code;
        PeerCloseReason = reason;
        if (!_closeSent) WriteClose(code, null); // the echo of the peer's code (section 5.5.1)
        _transport.CloseWhenFlushed(_settings.CloseMilliseconds); // the server closes the TCP connection first
        if (_receiving) CompleteReceive(CloseMessage());
    }

    private WebSocketMessage CloseMessage() => new(WebSocketMessageKind.Close, ReadOnlyMemory<byte>.Empty, _closeStatus, PeerCloseReason);

    /// <summary>Room in the message buffer for <paramref name="count"/> more bytes; it grows with what arrived, up to the limit.</summary>
    private Span<byte> MessageRoom(int count)
    {
        int needed = _messageLength + count;
        if (_message is null)
        {
            _message = _transport.Pool.Rent(needed);
        }
        else if (_message.Length < needed)
        {
            byte[] larger = _transport.Pool.Rent(Math.Min(_settings.MaxMessageBytes, Math.Max(needed, _message.Length * 2)));
            _message.AsSpan(0, _messageLength).CopyTo(larger);
            _transport.Pool.Return(_message);
            _message = larger;
        }
        return _message.AsSpan(_messageLength, count);
    }

    private void ReleaseMessage()
    {
        if (_message is null || _messageLength > 0) return;
        _transport.Pool.Return(_message);
        _message = null;
    }

    // ---- Delivering messages. ----

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

    // ---- Sending. ----

    private bool SendFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        if (_transport.Loop.IsOnLoopThread)
        {
            if (!WriteOnLoop(opcode, payload)) return false;
            if (!_inTransportCall && !_closed) _transport.Flush();
            return !_closed;
        }
        bool schedule;
        lock (Gate)
        {
            if (_closeSent || _closed) return false;
            ReadOnlySpan<byte> body = Encode(opcode, payload, out bool rsv1);
            int frameLength = WebSocketFrameCodec.HeadLength(body.Length) + body.Length;
            if (OverHardLimit(frameLength))
            {
                _transport.Loop.Post(static state => ((WebSocketConnection)state!).Overflow(), this);
                return false;
            }
            if (PendingFrames is null)
            {
                PendingFrames = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(frameLength, 4096));
            }
            else if (PendingFrames.Length - PendingLength < frameLength)
            {
                byte[] larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(PendingLength + frameLength, PendingFrames.Length * 2));
                PendingFrames.AsSpan(0, PendingLength).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(PendingFrames);
                PendingFrames = larger;
            }
            PendingLength += WebSocketFrameCodec.WriteFrame(PendingFrames.AsSpan(PendingLength), opcode, body, rsv1);
            _queued += frameLength;
            schedule = !PumpScheduled;
            PumpScheduled = true;
        }
        if (schedule) _transport.Loop.Post(static state => ((WebSocketConnection)state!).Pump(), this);
        return true;
    }

    /// <summary>Frames into the transport's output, after whatever other threads queued. Loop thread.</summary>
    private bool WriteOnLoop(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        lock (Gate)
        {
            if (_closeSent || _closed) return false;
            ReadOnlySpan<byte> body = Encode(opcode, payload, out bool rsv1);
            int frameLength = WebSocketFrameCodec.HeadLength(body.Length) + body.Length;
            if (opcode <= WebSocketOpcode.Binary && OverHardLimit(frameLength))
            {
                Overflow();
                return false;
            }
            MovePending();
            ref OutputBuffer output = ref _transport.Output;
            output.Advance(WebSocketFrameCodec.WriteFrame(output.GetSpan(_transport.Pool, frameLength), opcode, body, rsv1));
            if (opcode == WebSocketOpcode.Close) _closeSent = true;
            _queued = _transport.OutputPending;
        }
        return true;
    }

    private bool OverHardLimit(int frameLength) => _queued > 0 && (long)_queued + frameLength > (long)_settings.MaxQueuedBytes * HardLimitFactor;

    /// <summary>Posted by a send from another thread: moves the queued frames into the output and sends them.</summary>
    private void Pump()
    {
        lock (Gate)
        {
            PumpScheduled = false;
            if (_closed) return;
            MovePending();
            _queued = _transport.OutputPending;
        }
        _transport.Flush();
    }

    private void MovePending()
    {
        if (PendingLength > 0)
        {
            PendingFrames.AsSpan(0, PendingLength).CopyTo(_transport.Output.GetSpan(_transport.Pool, PendingLength));
            _transport.Output.Advance(PendingLength);
            PendingLength = 0;
        }
        if (PendingFrames is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(PendingFrames);
            PendingFrames = null;
        }
    }

    private void Overflow()
    {
        if (_closed) return;
        WebSocketLog.SendOverflow(_transport.Logger, (long)_settings.MaxQueuedBytes * HardLimitFactor);
        _transport.Close();
    }
}
