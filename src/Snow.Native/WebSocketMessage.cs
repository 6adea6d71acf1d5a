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

    public WebSocketMessageKind Kind { get; }

    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The data decoded as UTF-8 (a new string).</summary>
    public string Text => Encoding.UTF8.GetString(Data.Span);

    public bool IsClose => Kind == WebSocketMessageKind.Close;

    /// <summary>For <see cref="WebSocketMessageKind.Close"/>: the peer's close code; 1005 when its frame had none, 1006 when the connection ended without one.</summary>
    public int CloseStatus { get; }

    /// <summary>For <see cref="WebSocketMessageKind.Close"/>: the peer's reason (possibly empty).</summary>
    public string? CloseReason { get; }

    /// <summary>A copy of the data.</summary>
    public byte[] ToArray() => Data.ToArray();

    public override string ToString() => Kind == WebSocketMessageKind.Close ? $"Close {CloseStatus} {CloseReason}" : $"{Kind} ({Data.Length} bytes)";
}

/// <summary>The close codes of RFC 6455 section 7.4.1 that servers use.</summary>
public static class WebSocketCloseCode
{
    public const int NormalClosure = 1000;
    public const int GoingAway = 1001;
    public const int ProtocolError = 1002;
    public const int UnsupportedData = 1003;
    /// <summary>Never sent: a close frame without a code.</summary>
    public const int NoStatus = 1005;
    /// <summary>Never sent: the connection ended without a close frame.</summary>
    public const int Abnormal = 1006;
    public const int InvalidPayloadData = 1007;
    public const int PolicyViolation = 1008;
    public const int MessageTooBig = 1009;
    public const int MandatoryExtension = 1010;
    public const int InternalError = 1011;
}
