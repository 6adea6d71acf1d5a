using Microsoft.Extensions.Logging;
using Snow.Native.Interop;

namespace Snow.Native.Server;

/// <summary>
/// The server's own log lines: start, listening addresses, stop, and accept trouble. Event ids are stable (users
/// filter and alert on them): the server's are 1-99, Http1Log's 100-199, ExecutionLog's 200-299, LoopLog's 300-399.
/// Only Debug lines may be written per request or per connection.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1, EventName = "Started", Level = LogLevel.Information,
        Message = "Snow.Native started with {Poller}, {Loops} loop(s)")]
    public static partial void Started(ILogger logger, string poller, int loops);

    [LoggerMessage(EventId = 2, EventName = "Listening", Level = LogLevel.Information,
        Message = "Snow.Native listening on {Url}")]
    public static partial void Listening(ILogger logger, string url);

    [LoggerMessage(EventId = 3, EventName = "Stopping", Level = LogLevel.Information,
        Message = "Snow.Native stopping: {Connections} connection(s) open, {Parked} parked request(s), up to {TimeoutMilliseconds} ms to finish")]
    public static partial void Stopping(ILogger logger, int connections, int parked, double timeoutMilliseconds);

    [LoggerMessage(EventId = 4, EventName = "Stopped", Level = LogLevel.Information,
        Message = "Snow.Native stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 5, EventName = "StopCutShort", Level = LogLevel.Warning,
        Message = "Snow.Native's graceful stop was cut short: what is still open is closed now")]
    public static partial void StopCutShort(ILogger logger);

    [LoggerMessage(EventId = 10, EventName = "AcceptFailed", Level = LogLevel.Error,
        Message = "accept on listener {Listener} failed: {Errno}; accepting pauses")]
    public static partial void AcceptFailed(ILogger logger, int listener, Errno errno);

    [LoggerMessage(EventId = 11, EventName = "AcceptPaused", Level = LogLevel.Warning,
        Message = "Accepting paused for {DelayMilliseconds} ms: {Errno} (out of file descriptors or memory)")]
    public static partial void AcceptPaused(ILogger logger, double delayMilliseconds, Errno errno);

    [LoggerMessage(EventId = 12, EventName = "ConnectionRefused", Level = LogLevel.Warning,
        Message = "Refusing a connection: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 13, EventName = "ConnectionLimitReached", Level = LogLevel.Debug,
        Message = "Closing an accepted connection: MaxConnections ({Limit}) are open")]
    public static partial void ConnectionLimitReached(ILogger logger, int? limit);
}
