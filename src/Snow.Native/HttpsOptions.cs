using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Snow.Native;

/// <summary>
/// How an endpoint serves HTTPS: its certificate (or one per host name, chosen by SNI), client certificates, the
/// TLS versions and the handshake timeout. TLS 1.2 and 1.3 with the operating system's cipher policy by default.
/// Certificates given as files are read again when the files change (a certbot renewal), for new handshakes,
/// without a restart.
/// </summary>
public sealed class HttpsOptions
{
    /// <summary>The certificate for host names that nothing else matches: files or an <see cref="X509Certificate2"/>.
    /// Required unless <see cref="ServerCertificateSelector"/> answers every handshake.</summary>
    public TlsCertificate? Certificate { get; set; }

    /// <summary>Certificates by host name, chosen by the name the client sends (SNI). A key is a host name
    /// ("example.com") or a wildcard for one label ("*.example.com"); matching ignores case.</summary>
    public IDictionary<string, TlsCertificate> ServerCertificates { get; } = new Dictionary<string, TlsCertificate>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Chooses a certificate for the host name the client sent (null when it sent none); returning null falls
    /// back to <see cref="ServerCertificates"/> and then <see cref="Certificate"/>. Called on the loop thread for every
    /// handshake: it should return a cached certificate, not load one.</summary>
    public Func<string?, X509Certificate2?>? ServerCertificateSelector { get; set; }

    /// <summary>Whether clients are asked for a certificate. The one a client sent is <see cref="HttpRequest.ClientCertificate"/>.</summary>
    public ClientCertificateMode ClientCertificateMode { get; set; } = ClientCertificateMode.NoCertificate;

    /// <summary>Decides whether a client certificate is accepted; by default one is accepted when its chain validates
    /// against the machine's trust store (errors other than a missing certificate reject it).</summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? ClientCertificateValidation { get; set; }

    /// <summary>The TLS versions offered; <see cref="SslProtocols.None"/> (the default) lets the operating system
    /// choose (TLS 1.2 and 1.3 on current systems).</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.None;

    /// <summary>The time a new connection has to finish its TLS handshake; then it is closed.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often certificate files are checked for changes, at most (at the next handshake after this much
    /// time). <see cref="TimeSpan.Zero"/> checks at every handshake; <see cref="Timeout.InfiniteTimeSpan"/> never.</summary>
    public TimeSpan CertificateReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Which TLS implementation serves the endpoint; <see cref="TlsEngine.Auto"/> by default.</summary>
    public TlsEngine Engine { get; set; } = TlsEngine.Auto;

    /// <summary>The engine <see cref="Engine"/> means on this machine.</summary>
    internal TlsEngine ResolvedEngine => Engine != TlsEngine.Auto ? Engine
        : Snow.Native.Interop.Platform.IsLinux && Snow.Native.Interop.Libraries.HasOpenSsl3() ? TlsEngine.OpenSsl : TlsEngine.SslStream;

    internal void Validate(string endpoint)
    {
        if (!Enum.IsDefined(Engine)) throw new ArgumentOutOfRangeException(nameof(Engine), Engine, "Auto, OpenSsl or SslStream.");
        if (Engine == TlsEngine.OpenSsl && !Snow.Native.Interop.Libraries.HasOpenSsl3())
        {
            throw new ArgumentException($"HTTPS endpoint {endpoint} asks for TlsEngine.OpenSsl, but OpenSSL 3 (libssl.so.3, libcrypto.so.3) cannot be loaded here: install it, or use TlsEngine.Auto or SslStream.");
        }
        if (Certificate is null && ServerCertificates.Count == 0 && ServerCertificateSelector is null)
        {
            throw new ArgumentException($"HTTPS endpoint {endpoint} has no certificate: set HttpsOptions.Certificate (files or an X509Certificate2), ServerCertificates or ServerCertificateSelector.");
        }
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "The handshake timeout must be positive.");
        if (CertificateReloadInterval < TimeSpan.Zero && CertificateReloadInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(CertificateReloadInterval), CertificateReloadInterval, "Zero, positive, or Timeout.InfiniteTimeSpan.");
        }
        foreach (string host in ServerCertificates.Keys)
        {
            if (string.IsNullOrWhiteSpace(host) || host.IndexOf('*', 1) >= 0 || (host.StartsWith('*') && !host.StartsWith("*.")))
            {
                throw new ArgumentException($"HTTPS endpoint {endpoint}: '{host}' is not a host name or a '*.domain' wildcard.");
            }
        }
    }
}

/// <summary>The TLS implementation of an HTTPS endpoint. Both take the same options and behave alike.</summary>
public enum TlsEngine
{
    /// <summary>OpenSSL where it is driven directly (Linux with OpenSSL 3), the runtime's SslStream elsewhere.</summary>
    Auto,
    /// <summary>OpenSSL 3 driving the non-blocking socket itself, as nginx does: the faster engine, and an idle
    /// connection holds no TLS buffer. Needs libssl.so.3.</summary>
    OpenSsl,
    /// <summary>The runtime's <see cref="SslStream"/> over a stream on the loop: OpenSSL on Linux, the platform's TLS
    /// elsewhere (Security.framework on macOS).</summary>
    SslStream,
}

/// <summary>Whether an HTTPS endpoint asks clients for a certificate.</summary>
public enum ClientCertificateMode
{
    /// <summary>No certificate is asked for.</summary>
    NoCertificate,
    /// <summary>A certificate is asked for; a client without one is served, one with a rejected certificate is not.</summary>
    AllowCertificate,
    /// <summary>A client without an accepted certificate fails the handshake.</summary>
    RequireCertificate,
}
