using System.Net.Security;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// What a TLS transport needs from its endpoint: the engine's options for each handshake (chosen from the
/// client's hello: SNI), the handshake's time limit, and the bytes to answer a client that spoke clear text to
/// the TLS port. Shared by every loop's connections on one endpoint.
/// </summary>
internal sealed class TlsServerSettings(
    ServerOptionsSelectionCallback selectOptions,
    object? selectState,
    long handshakeTimeoutMilliseconds,
    ReadOnlyMemory<byte> clearTextReply)
{
    public ServerOptionsSelectionCallback SelectOptions { get; } = selectOptions;

    public object? SelectState { get; } = selectState;

    public long HandshakeTimeoutMilliseconds { get; } = handshakeTimeoutMilliseconds;

    /// <summary>Sent, unencrypted, to a client whose first bytes were not a TLS record but text.</summary>
    public ReadOnlyMemory<byte> ClearTextReply { get; } = clearTextReply;
}

/// <summary>What a protocol may ask of the TLS session under it (the request's client certificate, ALPN).</summary>
internal interface ITlsSession
{
    System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; }

    System.Security.Authentication.SslProtocols SslProtocol { get; }

    /// <summary>The protocol ALPN chose ("http/1.1"), or empty when the client offered none.</summary>
    SslApplicationProtocol ApplicationProtocol { get; }

    /// <summary>The host name the client asked for (SNI), or empty.</summary>
    string HostName { get; }
}
