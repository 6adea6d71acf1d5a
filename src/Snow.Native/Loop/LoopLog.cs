using Microsoft.Extensions.Logging;

namespace Snow.Native.Loop;

/// <summary>The event loop's log lines (event ids 300-399; see ServerLog): work that threw on the loop thread.</summary>
internal static partial class LoopLog
{
    [LoggerMessage(EventId = 300, EventName = "ReadinessHandlerFailed", Level = LogLevel.Error,
        Message = "Event loop {Loop}: a readiness handler failed")]
    public static partial void ReadinessHandlerFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(EventId = 301, EventName = "TimerFailed", Level = LogLevel.Error,
        Message = "Event loop {Loop}: a timer callback failed")]
    public static partial void TimerFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(EventId = 302, EventName = "PostedWorkFailed", Level = LogLevel.Error,
        Message = "Event loop {Loop}: posted work failed")]
    public static partial void PostedWorkFailed(ILogger logger, Exception exception, string loop);
}
