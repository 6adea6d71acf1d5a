using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// Control frames from the peer (ping answered, pong noted, close checked and echoed) and the close handshake from our
// side (close, fail with an RFC close code); apart from the reading of data frames because these end the connection.
public sealed partial class WebSocketConnection
{
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
}
