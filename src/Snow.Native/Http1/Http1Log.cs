using Microsoft.Extensions.Logging;

namespace Snow.Native.Http1;

/// <summary>The HTTP/1.1 protocol's log lines (event ids 100-199; see ServerLog). Per request: Debug only.</summary>
internal static partial class Http1Log
{
    [LoggerMessage(EventId = 100, EventName = "RequestRejected", Level = LogLevel.Debug,
        Message = "Rejecting a request with {Status}: {Reason}")]
    public static partial void RequestRejected(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 101, EventName = "StreamedResponseOverflow", Level = LogLevel.Warning,
        Message = "Closing the connection of {Request}: its streamed response queued more than {Limit} bytes for a client that does not take them; the producer should await WaitForDrainAsync")]
    public static partial void StreamedResponseOverflow(ILogger logger, string? request, long limit);
}
