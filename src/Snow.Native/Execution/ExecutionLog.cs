using Microsoft.Extensions.Logging;

namespace Snow.Native.Execution;

/// <summary>Log lines of request execution (event ids 200-299; see ServerLog).</summary>
internal static partial class ExecutionLog
{
    [LoggerMessage(EventId = 200, EventName = "HandlerFailed", Level = LogLevel.Error,
        Message = "Handler {Route} failed for {Request}; answering 500")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string route, string request);
}
