using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using static Snow.Native.Interop.OpenSsl;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// One OpenSSL SSL_CTX: an endpoint's settings (versions, ALPN, client-certificate rules, renegotiation refused,
/// record buffers released while empty) with one certificate, or with none for the endpoint's base context, in
/// which every session starts until the client's hello chooses its certificate. Sessions hold their own reference
/// to their context, so a context replaced by a renewal is freed once the last session that used it is gone.
/// </summary>
internal sealed unsafe class OpenSslContext : SafeHandle
{
    private static readonly byte[] SessionIdContext = "snow"u8.ToArray();

    private OpenSslContext(nint handle)
        : base(0, ownsHandle: true)
    {
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    public nint Pointer => handle;

    protected override bool ReleaseHandle()
    {
        SslCtxFree(handle);
        return true;
    }

    /// <summary>
    /// A context with the endpoint's settings and, when given, its certificate, the certificate's chain and key.
    /// Throws <see cref="ArgumentException"/> with OpenSSL's reason when OpenSSL refuses any of them.
    /// </summary>
    public static OpenSslContext Create(SslProtocols protocols, ClientCertificateMode clientCertificates, X509Certificate2? certificate, X509Certificate2Collection? chain)
    {
        nint context = SslCtxNew(TlsServerMethod());
        if (context == 0) throw Failure("SSL_CTX_new");
        var owner = new OpenSslContext(context);
        try
        {
            Configure(context, protocols, clientCertificates);
            if (certificate is not null) UseCertificate(context, certificate, chain ?? []);
            return owner;
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    private static void Configure(nint context, SslProtocols protocols, ClientCertificateMode clientCertificates)
    {
        // The server's cipher order (the system policy's, strongest first), not the client's: what testssl.sh and
        // SslStream expect; no renegotiation; an end without close_notify is an end, not an error (as nginx).
        SslCtxSetOptions(context,
            SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
        // Partial writes: one record at a time, so back-pressure is the transport's; moving buffer: a retried write
        // may come from where the output queue's bytes are now; released buffers: an idle session holds none.
        SslCtxSetMode(context,
            SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
        (int min, int max) = Versions(protocols);
        if (!SslCtxSetMinProtoVersion(context, min) || !SslCtxSetMaxProtoVersion(context, max))
        {
            throw Failure($"TLS versions {protocols}");
        }
        // Resumption by session tickets only: no per-server cache of sessions that grows with every client.
        SslCtxSetSessionCacheMode(context, SSL_SESS_CACHE_OFF);
        fixed (byte* id = SessionIdContext)
        {
            SslCtxSetSessionIdContext(context, id, (uint)SessionIdContext.Length);
        }
        OpenSslCallbacks.Install(context, clientCertificates);
    }

    /// <summary>The range of versions offered; none chosen means TLS 1.2 and 1.3 (what current systems allow).</summary>
    private static (int Min, int Max) Versions(SslProtocols protocols)
    {
#pragma warning disable SYSLIB0039 // TLS 1.0 and 1.1 are mapped only because a user may ask for them explicitly.
        if (protocols == SslProtocols.None) return (TLS1_2_VERSION, TLS1_3_VERSION);
        int min = int.MaxValue, max = 0;
        foreach ((SslProtocols flag, int version) in new[]
                 {
                     (SslProtocols.Tls, TLS1_VERSION), (SslProtocols.Tls11, TLS1_1_VERSION),
                     (SslProtocols.Tls12, TLS1_2_VERSION), (SslProtocols.Tls13, TLS1_3_VERSION),
                 })
#pragma warning restore SYSLIB0039
        {
            if ((protocols & flag) == 0) continue;
            min = Math.Min(min, version);
            max = Math.Max(max, version);
        }
        if (max == 0) throw new ArgumentException($"The OpenSSL TLS engine offers TLS 1.0 to 1.3; {protocols} has none of them.");
        return (min, max);
    }

    private static void UseCertificate(nint context, X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        nint leaf = ParseCertificate(certificate);
        try
        {
            if (SslCtxUseCertificate(context, leaf) != 1) throw Failure($"the certificate {certificate.Subject}");
        }
        finally
        {
            X509Free(leaf);
        }
        foreach (X509Certificate2 link in chain)
        {
            nint x509 = ParseCertificate(link);
            try
            {
                if (!SslCtxAdd1ChainCert(context, x509)) throw Failure($"the chain certificate {link.Subject}");
            }
            finally
            {
                X509Free(x509);
            }
        }
        byte[] pkcs8 = ExportKey(certificate);
        try
        {
            nint key;
            fixed (byte* der = pkcs8)
            {
                byte* cursor = der;
                key = D2iAutoPrivateKey(0, &cursor, pkcs8.Length);
            }
            if (key == 0) throw Failure($"the private key of {certificate.Subject}");
            try
            {
                if (SslCtxUsePrivateKey(context, key) != 1) throw Failure($"the private key of {certificate.Subject}");
            }
            finally
            {
                EvpPkeyFree(key);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
        if (SslCtxCheckPrivateKey(context) != 1) throw Failure($"the private key, which does not match the certificate {certificate.Subject}");
    }

    private static nint ParseCertificate(X509Certificate2 certificate)
    {
        byte[] der = certificate.RawData;
        fixed (byte* start = der)
        {
            byte* cursor = start;
            nint x509 = D2iX509(0, &cursor, der.Length);
            if (x509 == 0) throw Failure($"the certificate {certificate.Subject}");
            return x509;
        }
    }

    private static byte[] ExportKey(X509Certificate2 certificate)
    {
        try
        {
            AsymmetricAlgorithm? key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey()
                ?? (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey()
                ?? (AsymmetricAlgorithm?)certificate.GetDSAPrivateKey()
                ?? throw new ArgumentException($"The OpenSSL TLS engine supports ECDSA, RSA and DSA keys; {certificate.Subject} has another kind.");
            using (key)
            {
                return key.ExportPkcs8PrivateKey();
            }
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The private key of {certificate.Subject} cannot be exported to OpenSSL ({e.Message}); load it as exportable or use TlsEngine.SslStream.", e);
        }
    }

    private static ArgumentException Failure(string what) =>
        new($"OpenSSL refused {what}: {TakeErrors() ?? "no reason given"}.");
}
