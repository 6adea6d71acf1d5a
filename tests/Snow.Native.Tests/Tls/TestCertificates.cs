using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Snow.Native.Tests.Tls;

/// <summary>
/// A throwaway certificate authority and certificates it signs, made in-process for the HTTPS tests, with PEM and
/// PFX files of them in a temporary folder (for curl, openssl and the file-loading paths).
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private static readonly Lazy<TestCertificates> Shared = new(() => new TestCertificates());

    public static TestCertificates Instance => Shared.Value;

    private TestCertificates()
    {
        Folder = Directory.CreateTempSubdirectory("snow-tls-").FullName;
        Authority = CreateAuthority("Snow.Native Test CA");
        AuthorityPem = Path.Combine(Folder, "ca.pem");
        File.WriteAllText(AuthorityPem, Authority.ExportCertificatePem());
        Server = Issue("localhost", ["localhost"], [IPAddress.Loopback]);
        (ServerPem, ServerKeyPem) = WritePem(Server, "server");
    }

    public string Folder { get; }

    public X509Certificate2 Authority { get; }

    public string AuthorityPem { get; }

    /// <summary>For localhost and 127.0.0.1.</summary>
    public X509Certificate2 Server { get; }

    public string ServerPem { get; }

    public string ServerKeyPem { get; }

    /// <summary>A server certificate for <paramref name="name"/> (and 127.0.0.1), signed by the authority.</summary>
    public X509Certificate2 Issue(string name, string[]? dnsNames = null, IPAddress[]? addresses = null, bool client = false, int serial = 0)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(client ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        if (!client)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (string dns in dnsNames ?? [name]) names.AddDnsName(dns);
            foreach (IPAddress address in addresses ?? [IPAddress.Loopback]) names.AddIpAddress(address);
            request.CertificateExtensions.Add(names.Build());
        }
        byte[] serialNumber = BitConverter.GetBytes(Environment.TickCount64 ^ Random.Shared.NextInt64() ^ serial);
        using X509Certificate2 issued = request.Create(Authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serialNumber);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes the certificate and its key as PEM files named after <paramref name="name"/>; returns their paths.</summary>
    public (string Certificate, string Key) WritePem(X509Certificate2 certificate, string name, string? folder = null)
    {
        string certificatePath = Path.Combine(folder ?? Folder, name + ".pem");
        string keyPath = Path.Combine(folder ?? Folder, name + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        using ECDsa key = certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>An HttpClient that trusts only the test authority (and checks the host name as usual).</summary>
    public HttpClient Client(X509Certificate2? clientCertificate = null, System.Security.Authentication.SslProtocols protocols = default)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            SslOptions =
            {
                EnabledSslProtocols = protocols,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusts(certificate, errors),
            },
        };
        if (clientCertificate is not null) handler.SslOptions.ClientCertificates = [clientCertificate];
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>True when <paramref name="certificate"/> chains to the test authority and nothing else is wrong.</summary>
    public bool Trusts(X509Certificate? certificate, System.Net.Security.SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        if ((errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
