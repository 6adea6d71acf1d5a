using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Snow.Native.Hosting.Tests;

/// <summary>Snow:Endpoints from configuration: several listeners, HTTPS with PEM files, clear errors for bad ones.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Names))]
[NonParallelizable]
public sealed class EndpointConfigurationTests(string poller)
{
    private string _folder = null!;
    private string _certificate = null!;
    private string _key = null!;

    [OneTimeSetUp]
    public void MakeCertificate()
    {
        _folder = Directory.CreateTempSubdirectory("snow-hosting-tls-").FullName;
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        _certificate = Path.Combine(_folder, "cert.pem");
        _key = Path.Combine(_folder, "key.pem");
        File.WriteAllText(_certificate, certificate.ExportCertificatePem());
        File.WriteAllText(_key, key.ExportPkcs8PrivateKeyPem());
    }

    [OneTimeTearDown]
    public void RemoveCertificate() => Directory.Delete(_folder, recursive: true);

    [Test]
    public async Task ConfiguredEndpointsPlainAndHttpsAreAllServed()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?>
        {
            ["Snow:Endpoints:0:Host"] = "127.0.0.1",
            ["Snow:Endpoints:0:Port"] = "0",
            ["Snow:Endpoints:1:Host"] = "127.0.0.1",
            ["Snow:Endpoints:1:Port"] = "0",
            ["Snow:Endpoints:1:Https:Certificate:Path"] = _certificate,
            ["Snow:Endpoints:1:Https:Certificate:KeyPath"] = _key,
            ["Snow:Endpoints:1:Https:EnabledProtocols"] = "Tls12, Tls13",
            ["Snow:Endpoints:1:Https:HandshakeTimeout"] = "00:00:05",
            ["Snow:Endpoints:1:Https:Engine"] = "SslStream",
        });
        builder.Services.AddSnow([("^/hello$", (HttpRequest r) => new HttpResponse(r.IsHttps ? "hello over https" : "hello"))]);
        using IHost host = builder.Build();
        await host.StartAsync();
        IReadOnlyList<ListeningEndpoint> endpoints = host.Snow().App!.Endpoints;
        Assert.That(endpoints.Select(e => e.IsHttps), Is.EqualTo(new[] { false, true }));
        Assert.That(host.Snow().App!.Options.Endpoints[1].Https!.Engine, Is.EqualTo(TlsEngine.SslStream));

        Assert.That(HostedServer.Body(HostedServer.Get(host, "/hello")), Is.EqualTo("hello"));

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(endpoints[1].EndPoint);
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13 });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        string response = await new StreamReader(tls, Encoding.UTF8).ReadToEndAsync();
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK"));
        Assert.That(HostedServer.Body(response), Is.EqualTo("hello over https"));
        await host.StopAsync();
    }

    [Test]
    public void BadEndpointsAreReportedWithTheirPaths()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?>
        {
            ["Snow:Endpoints:0:Port"] = "70000",
            ["Snow:Endpoints:0:Prot"] = "1",
            ["Snow:Endpoints:1:Port"] = "0",
            ["Snow:Endpoints:1:Https:Certificate:Path"] = Path.Combine(_folder, "missing.pem"),
            ["Snow:Endpoints:2:Port"] = "0",
            ["Snow:Endpoints:2:Https:Certificate:KeyPath"] = _key,
            ["Snow:Endpoints:2:Https:ClientCertificateMode"] = "Sometimes",
            ["Snow:Endpoints:2:Https:EnabledProtocols"] = "Ssl3",
            ["Snow:Endpoints:2:Https:Engine"] = "BoringSsl",
        });
        builder.Services.AddSnow([("^/$", (HttpRequest r) => new HttpResponse("x"))]);
        using IHost host = builder.Build();
        string message = Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync())!.Message;
        TestContext.Out.WriteLine(message);
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Contain("Snow:Endpoints:0:Port: '70000' is not a whole number from 0 to 65535."));
            Assert.That(message, Does.Contain("Snow:Endpoints:0:Prot is not a Snow.Native setting; known here: Host, Port, Https."));
            Assert.That(message, Does.Contain("Snow:Endpoints:1:Https:Certificate: could not load '").And.Contain("missing.pem"));
            Assert.That(message, Does.Contain("Snow:Endpoints:2:Https:Certificate: needs Path"));
            Assert.That(message, Does.Contain("Snow:Endpoints:2:Https:ClientCertificateMode: 'Sometimes' is not NoCertificate, AllowCertificate or RequireCertificate."));
            Assert.That(message, Does.Contain("Snow:Endpoints:2:Https:EnabledProtocols: 'Ssl3' is not a TLS version offered"));
            Assert.That(message, Does.Contain("Snow:Endpoints:2:Https:Engine: 'BoringSsl' is not Auto, OpenSsl or SslStream."));
        });
    }
}
