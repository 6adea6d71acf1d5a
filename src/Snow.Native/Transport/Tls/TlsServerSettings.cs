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
    ReadOnlyMemory<byte> clearTextReply,
    OpenSslEndpoint? openSsl = null)
{
    /// <summary>Set when the endpoint's engine is OpenSSL driven directly (<see cref="OpenSslTransport"/>); null: SslStream.</summary>
    public OpenSslEndpoint? OpenSsl { get; } = openSsl;

    public ServerOptionsSelectionCallback SelectOptions { get; } = selectOptions;

    public object? SelectState { get; } = selectState;

    public long HandshakeTimeoutMilliseconds { get; } = handshakeTimeoutMilliseconds;

    /// <summary>Sent, unencrypted, to a client whose first bytes were not a TLS record but text.</summary>
    public ReadOnlyMemory<byte> ClearTextReply { get; } = clearTextReply;
}

/// <summary>ALPN: what the server offers, most preferred first. The one place where "h2" joins once HTTP/2 exists.</summary>
internal static class TlsApplicationProtocols
{
    public static readonly List<SslApplicationProtocol> Offered = [SslApplicationProtocol.Http11];
}

/// <summary>
/// An endpoint served by the OpenSSL engine: the context every session starts in (the endpoint's settings, no
/// certificate), and its certificates, chosen by the client's hello.
/// </summary>
internal sealed class OpenSslEndpoint(OpenSslContext baseContext, IOpenSslCredentials credentials)
{
    public OpenSslContext BaseContext { get; } = baseContext;

    public IOpenSslCredentials Credentials { get; } = credentials;
}

/// <summary>The certificates of an endpoint, as the OpenSSL engine asks for them during a handshake (loop thread).</summary>
internal interface IOpenSslCredentials
{
    /// <summary>The context holding the certificate for <paramref name="hostName"/> (SNI; null when none was sent);
    /// throws <see cref="System.Security.Authentication.AuthenticationException"/> when there is none.</summary>
    OpenSslContext For(string? hostName);

    /// <summary>Whether the client's certificate, with the chain it presented, is accepted.</summary>
    bool AcceptClientCertificate(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection presentedChain);
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
