using System.Text;

namespace Snow.Native;

/// <summary>What a WebSocket message is.</summary>
public enum WebSocketMessageKind : byte
{
    /// <summary>UTF-8 text (validated on receipt).</summary>
    Text,
    /// <summary>Bytes.</summary>
    Binary,
    /// <summary>The peer's close frame (or the end of the connection): no further message comes.</summary>
    Close,
}

/// <summary>
/// One received message. <see cref="Data"/> belongs to the connection: it is valid until the next
/// <see cref="WebSocketConnection.ReceiveAsync"/> (or, in a callback, until the callback returns); copy what you
/// keep longer (<see cref="Text"/> and <see cref="ToArray"/> do).
/// </summary>
public readonly struct WebSocketMessage
{
    internal WebSocketMessage(WebSocketMessageKind kind, ReadOnlyMemory<byte> data, int closeStatus = 0, string? closeReason = null)
    {
        Kind = kind;
        Data = data;
        CloseStatus = closeStatus;
        CloseReason = closeReason;
    }

    /// <summary>Text, binary, or the close.</summary>
    public WebSocketMessageKind Kind { get; }

    /// <summary>The payload (UTF-8 for text; empty for a close); see the remarks on how long it is valid.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The data decoded as UTF-8 (a new string).</summary>
    public string Text => Encoding.UTF8.GetString(Data.Span);

    /// <summary>True for the close: the connection has ended or is ending.</summary>
    public bool IsClose => Kind == WebSocketMessageKind.Close;

    /// <summary>For <see cref="WebSocketMessageKind.Close"/>: the peer's close code; 1005 when its frame had none, 1006 when the connection ended without one.</summary>
    public int CloseStatus { get; }

    /// <summary>For <see cref="WebSocketMessageKind.Close"/>: the peer's reason (possibly empty).</summary>
    public string? CloseReason { get; }

    /// <summary>A copy of the data.</summary>
    public byte[] ToArray() => Data.ToArray();

    /// <summary>The kind and length, or the close code and reason.</summary>
    public override string ToString() => Kind == WebSocketMessageKind.Close ? $"Close {CloseStatus} {CloseReason}" : $"{Kind} ({Data.Length} bytes)";
}

/// <summary>The close codes of RFC 6455 section 7.4.1 that servers use.</summary>
public static class WebSocketCloseCode
{
    /// <summary>The purpose of the connection was fulfilled.</summary>
    public const int NormalClosure = 1000;
    /// <summary>The server is stopping (or the page navigates away).</summary>
    public const int GoingAway = 1001;
    /// <summary>A frame broke the protocol.</summary>
    public const int ProtocolError = 1002;
    /// <summary>A kind of message the endpoint cannot take.</summary>
    public const int UnsupportedData = 1003;
    /// <summary>Never sent: a close frame without a code.</summary>
    public const int NoStatus = 1005;
    /// <summary>Never sent: the connection ended without a close frame.</summary>
    public const int Abnormal = 1006;
    /// <summary>Text (or a close reason) that is not UTF-8, or compressed data that does not inflate.</summary>
    public const int InvalidPayloadData = 1007;
    /// <summary>A message that breaks the endpoint's policy.</summary>
    public const int PolicyViolation = 1008;
    /// <summary>A message over the size limit.</summary>
    public const int MessageTooBig = 1009;
    /// <summary>The client needed an extension the server did not agree.</summary>
    public const int MandatoryExtension = 1010;
    /// <summary>The server failed (a session or callback threw).</summary>
    public const int InternalError = 1011;
}
