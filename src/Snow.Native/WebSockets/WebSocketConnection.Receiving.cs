using System.Text.Unicode;
using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// Reading frames into messages on the loop thread, with every rule a server enforces (fragment order, reserved bits,
// size, UTF-8), inflating compressed messages, and the message buffer; apart because it is the receive hot path.
public sealed partial class WebSocketConnection
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

    private bool CallbackStyle => _handlers.OnMessage is not null;

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
}
