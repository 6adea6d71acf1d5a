using Microsoft.Extensions.Logging;

namespace Snow.Native.Transport.Tls;

/// <summary>The TLS transport's and the certificates' log lines (event ids 400-499; see ServerLog). Per connection: Debug only.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 400, EventName = "TlsHandshakeFailed", Level = LogLevel.Debug,
        Message = "TLS handshake failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 401, EventName = "TlsHandshakeTimedOut", Level = LogLevel.Debug,
        Message = "TLS handshake timed out")]
    public static partial void HandshakeTimedOut(ILogger logger);

    [LoggerMessage(EventId = 402, EventName = "TlsConnectionFailed", Level = LogLevel.Debug,
        Message = "TLS connection failed: {Reason}")]
    public static partial void ConnectionFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 403, EventName = "TlsEngineStalled", Level = LogLevel.Warning,
        Message = "TLS engine did not answer a read from decrypted data; closing the connection")]
    public static partial void EngineStalled(ILogger logger);

    [LoggerMessage(EventId = 410, EventName = "CertificateReloaded", Level = LogLevel.Information,
        Message = "Reloaded the certificate from {Path}: {Subject}, valid until {NotAfter:u}")]
    public static partial void CertificateReloaded(ILogger logger, string? path, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 411, EventName = "CertificateReloadFailed", Level = LogLevel.Warning,
        Message = "Could not reload the certificate from {Path}, keeping the one in use: {Reason}")]
    public static partial void CertificateReloadFailed(ILogger logger, string? path, string reason);
}
