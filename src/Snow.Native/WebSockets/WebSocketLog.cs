using Microsoft.Extensions.Logging;

namespace Snow.Native.WebSockets;

/// <summary>The WebSocket protocol's log lines (event ids 500-599; see ServerLog). Per connection: Debug, except failures of the application's code.</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(EventId = 500, EventName = "WebSocketFailed", Level = LogLevel.Debug,
        Message = "Failing a WebSocket with {Code}: {Reason}")]
    public static partial void Failed(ILogger logger, int code, string reason);

    [LoggerMessage(EventId = 501, EventName = "WebSocketPeerSilent", Level = LogLevel.Debug,
        Message = "Closing a WebSocket whose peer sent nothing, not even a pong, for two keep-alive intervals")]
    public static partial void PeerSilent(ILogger logger);

    [LoggerMessage(EventId = 502, EventName = "WebSocketCallbackFailed", Level = LogLevel.Error,
        Message = "A WebSocket's {Callback} failed; closing with 1011")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string callback);

    [LoggerMessage(EventId = 503, EventName = "WebSocketOnClosedFailed", Level = LogLevel.Error,
        Message = "A WebSocket's onClosed callback failed")]
    public static partial void OnClosedFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 504, EventName = "WebSocketSendOverflow", Level = LogLevel.Warning,
        Message = "Closing a WebSocket: more than {Limit} bytes were queued for a client that does not take them; senders should await SendAsync or WaitForDrainAsync")]
    public static partial void SendOverflow(ILogger logger, long limit);
}
