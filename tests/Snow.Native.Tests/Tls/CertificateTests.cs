using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>Certificates: the ways to give one, SNI, renewal without a restart, client certificates, and the
/// errors a mistake gets. Once per poller and TLS engine.</summary>
[TestFixtureSource(typeof(TlsVariants), nameof(TlsVariants.Cases))]
[NonParallelizable]
public sealed class CertificateTests(PollerKind poller, TlsEngine engine)
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(10);

    private static TestCertificates Certificates => TestCertificates.Instance;

    private static Route[] Routes() =>
    [
        ("^/index/$", _ => new HttpResponse("OK")),
        ("^/client/$", request => new HttpResponse(request.ClientCertificate?.Subject ?? "none")),
    ];

    /// <summary>The subject of the certificate the server shows to a client asking for <paramref name="hostName"/>.</summary>
    private static string ServerSubject(HttpsServer server, string? hostName)
    {
        using TestClient client = server.ConnectRaw(Short);
        string? seen = null;
        client.StartTls(hostName, new SslClientAuthenticationOptions
        {
            TargetHost = hostName ?? "",
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                seen = certificate?.Subject;
                return true;
            },
        });
        client.Send("GET /index/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("OK"));
        return seen!;
    }

    [Test]
    public void PemFilesServe()
    {
        using var server = new HttpsServer(Routes(), poller, engine, https => https.Certificate = TlsCertificate.FromFiles(Certificates.ServerPem, Certificates.ServerKeyPem));
        Assert.That(ServerSubject(server, "localhost"), Is.EqualTo("CN=localhost"));
    }

    [Test]
    public void APfxFileWithItsPasswordServes()
    {
        string pfx = Path.Combine(Certificates.Folder, $"server-{poller}-{engine}.pfx");
        File.WriteAllBytes(pfx, Certificates.Server.Export(X509ContentType.Pkcs12, "s3cret"));
        using var server = new HttpsServer(Routes(), poller, engine, https => https.Certificate = TlsCertificate.FromFiles(pfx, password: "s3cret"));
        Assert.That(ServerSubject(server, "localhost"), Is.EqualTo("CN=localhost"));
    }

    [Test]
    public void AnEncryptedPemKeyWithItsPasswordServes()
    {
        string certificate = Path.Combine(Certificates.Folder, $"encrypted-{poller}-{engine}.pem");
        string key = Path.Combine(Certificates.Folder, $"encrypted-{poller}-{engine}.key");
        File.WriteAllText(certificate, Certificates.Server.ExportCertificatePem());
        using ECDsa ecdsa = Certificates.Server.GetECDsaPrivateKey()!;
        File.WriteAllText(key, ecdsa.ExportEncryptedPkcs8PrivateKeyPem("k3y", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)));
        using var server = new HttpsServer(Routes(), poller, engine, https => https.Certificate = TlsCertificate.FromFiles(certificate, key, "k3y"));
        Assert.That(ServerSubject(server, "localhost"), Is.EqualTo("CN=localhost"));
    }

    [Test]
    public void SniChoosesTheCertificateByHostNameWithWildcardsAndADefault()
    {
        using X509Certificate2 a = Certificates.Issue("a.test");
        using X509Certificate2 wildcard = Certificates.Issue("*.b.test");
        using var server = new HttpsServer(Routes(), poller, engine, https =>
        {
            https.ServerCertificates["a.test"] = new TlsCertificate(a);
            https.ServerCertificates["*.b.test"] = new TlsCertificate(wildcard);
        });
        Assert.That(ServerSubject(server, "a.test"), Is.EqualTo("CN=a.test"));
        Assert.That(ServerSubject(server, "A.TEST"), Is.EqualTo("CN=a.test"), "host names ignore case");
        Assert.That(ServerSubject(server, "x.b.test"), Is.EqualTo("CN=*.b.test"));
        Assert.That(ServerSubject(server, "y.x.b.test"), Is.EqualTo("CN=localhost"), "a wildcard covers one label");
        Assert.That(ServerSubject(server, "other.test"), Is.EqualTo("CN=localhost"), "the default");
        Assert.That(ServerSubject(server, null), Is.EqualTo("CN=localhost"), "no SNI: the default");
    }

    [Test]
    public void ASelectorCallbackChoosesFirstAndNullFallsBack()
    {
        using X509Certificate2 chosen = Certificates.Issue("chosen.test");
        var asked = new List<string?>();
        using var server = new HttpsServer(Routes(), poller, engine, https => https.ServerCertificateSelector = name =>
        {
            lock (asked) asked.Add(name);
            return name == "chosen.test" ? chosen : null;
        });
        Assert.That(ServerSubject(server, "chosen.test"), Is.EqualTo("CN=chosen.test"));
        Assert.That(ServerSubject(server, "else.test"), Is.EqualTo("CN=localhost"));
        Assert.That(asked, Is.EqualTo(new[] { "chosen.test", "else.test" }));
    }

    [Test]
    public void WithoutADefaultAnUnknownHostNameFailsItsHandshakeOnly()
    {
        using X509Certificate2 a = Certificates.Issue("a.test");
        using var server = new HttpsServer(Routes(), poller, engine, https =>
        {
            https.Certificate = null;
            https.ServerCertificates["a.test"] = new TlsCertificate(a);
        });
        Assert.Throws(Is.InstanceOf<Exception>(), () => ServerSubject(server, "unknown.test"));
        Assert.That(ServerSubject(server, "a.test"), Is.EqualTo("CN=a.test"));
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 0), Is.True);
    }

    [Test]
    public void RenewedFilesAreTakenUpByNewHandshakesWithoutARestart()
    {
        string folder = Directory.CreateTempSubdirectory("snow-renew-").FullName;
        using X509Certificate2 first = Certificates.Issue("localhost", serial: 1);
        (string certificate, string key) = Certificates.WritePem(first, "live", folder);
        using var server = new HttpsServer(Routes(), poller, engine, https =>
        {
            https.Certificate = TlsCertificate.FromFiles(certificate, key);
            https.CertificateReloadInterval = TimeSpan.Zero;
        });
        Assert.That(ServerThumbprint(server), Is.EqualTo(first.Thumbprint));

        using X509Certificate2 renewed = Certificates.Issue("localhost", serial: 2);
        Certificates.WritePem(renewed, "live", folder);
        File.SetLastWriteTimeUtc(certificate, DateTime.UtcNow.AddSeconds(5)); // a coarse file clock must still see a change
        Assert.That(ServerThumbprint(server), Is.EqualTo(renewed.Thumbprint));

        // A broken renewal keeps the certificate in use.
        File.WriteAllText(key, "not a key");
        File.SetLastWriteTimeUtc(key, DateTime.UtcNow.AddSeconds(10));
        Assert.That(ServerThumbprint(server), Is.EqualTo(renewed.Thumbprint));
        Directory.Delete(folder, recursive: true);
    }

    private static string ServerThumbprint(HttpsServer server)
    {
        using TestClient client = server.ConnectRaw(Short);
        string? seen = null;
        client.StartTls("localhost", new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, c, _, _) =>
            {
                seen = (c as X509Certificate2)?.Thumbprint;
                return true;
            },
        });
        return seen!;
    }

    [Test]
    public async Task ARequiredClientCertificateIsSeenByTheHandler()
    {
        using X509Certificate2 clientCertificate = Certificates.Issue("snow-client", client: true);
        using var server = new HttpsServer(Routes(), poller, engine, https =>
        {
            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => Certificates.Trusts(certificate, SslPolicyErrors.RemoteCertificateChainErrors);
        });
        using (HttpClient withCertificate = Certificates.Client(clientCertificate))
        {
            Assert.That(await withCertificate.GetStringAsync(server.Url("/client/")), Is.EqualTo("CN=snow-client"));
        }
        using HttpClient without = Certificates.Client();
        Assert.That(async () => await without.GetStringAsync(server.Url("/client/")), Throws.InstanceOf<HttpRequestException>());
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 0), Is.True);
    }

    [Test]
    public async Task AnOptionalClientCertificateMayBeLeftOutButNotWrong()
    {
        using X509Certificate2 stranger = CreateSelfSignedClient();
        using X509Certificate2 trusted = Certificates.Issue("snow-client", client: true);
        using var server = new HttpsServer(Routes(), poller, engine, https =>
        {
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => Certificates.Trusts(certificate, SslPolicyErrors.RemoteCertificateChainErrors);
        });
        using (HttpClient without = Certificates.Client())
        {
            Assert.That(await without.GetStringAsync(server.Url("/client/")), Is.EqualTo("none"));
        }
        using (HttpClient with = Certificates.Client(trusted))
        {
            Assert.That(await with.GetStringAsync(server.Url("/client/")), Is.EqualTo("CN=snow-client"));
        }
        using HttpClient wrong = Certificates.Client(stranger);
        Assert.That(async () => await wrong.GetStringAsync(server.Url("/client/")), Throws.InstanceOf<HttpRequestException>());
    }

    private static X509Certificate2 CreateSelfSignedClient()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=stranger", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    [Test]
    public void MistakesFailAtStartNamingWhatIsWrong()
    {
        var app = new SnowApp(Routes(), new SnowOptions { Poller = poller, Loops = 1 });
        Assert.That(() => app.Start(new SnowEndpoint("127.0.0.1", 0, new HttpsOptions { Engine = engine })),
            Throws.ArgumentException.With.Message.Contains("no certificate"));
        Assert.That(() => TlsCertificate.FromFiles(Path.Combine(Certificates.Folder, "missing.pem"), Certificates.ServerKeyPem),
            Throws.ArgumentException.With.Message.Contains("missing.pem"));
        Assert.That(() => TlsCertificate.FromFiles(Certificates.ServerPem),
            Throws.ArgumentException.With.Message.Contains("key file"));
        string pfx = Path.Combine(Certificates.Folder, $"bad-password-{poller}-{engine}.pfx");
        File.WriteAllBytes(pfx, Certificates.Server.Export(X509ContentType.Pkcs12, "right"));
        Assert.That(() => TlsCertificate.FromFiles(pfx, password: "wrong"), Throws.ArgumentException.With.Message.Contains(pfx));
        using var noKey = X509CertificateLoader.LoadCertificate(Certificates.Server.RawData);
        Assert.That(() => new TlsCertificate(noKey), Throws.ArgumentException.With.Message.Contains("private key"));
        Assert.That(() => app.Start(new SnowEndpoint("127.0.0.1", 0, new HttpsOptions { Certificate = new TlsCertificate(Certificates.Server), HandshakeTimeout = TimeSpan.Zero, Engine = engine })),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(app.IsRunning, Is.False);
    }
}
