using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>HTTPS with .NET's own client over real sockets, once per poller and TLS engine.</summary>
[TestFixtureSource(typeof(TlsVariants), nameof(TlsVariants.Cases))]
[NonParallelizable]
public sealed class HttpsTests(PollerKind poller, TlsEngine engine)
{
    private static Route[] Routes() =>
    [
        ("^/index/$", _ => new HttpResponse("OK")),
        ("^/scheme/$", request => new HttpResponse($"{request.Scheme} {request.IsHttps}")),
        ("^/big/$", _ => new HttpResponse(BigBody)),
        new Route("^/upload/$", async Task<HttpResponse> (HttpRequest request) =>
        {
            byte[] hash = await SHA256.HashDataAsync(request.BodyStream);
            return new HttpResponse(Convert.ToHexString(hash));
        }) { StreamBody = true },
        ("^/client/$", request => new HttpResponse(request.ClientCertificate?.Subject ?? "none")),
    ];

    private static readonly byte[] BigBody = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);

    [Test]
    public async Task HttpClientGetsAnswersOverOneKeptAliveConnection()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using HttpClient client = TestCertificates.Instance.Client();
        for (int i = 0; i < 5; i++)
        {
            Assert.That(await client.GetStringAsync(server.Url("/index/")), Is.EqualTo("OK"));
        }
        Assert.That(await client.GetStringAsync(server.Url("/scheme/")), Is.EqualTo("https True"));
        Assert.That(server.App.ConnectionCount, Is.EqualTo(1), "keep-alive: one connection for every request");
    }

    [TestCase(SslProtocols.Tls12)]
    [TestCase(SslProtocols.Tls13)]
    public async Task BothTlsVersionsAreServed(SslProtocols protocol)
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using HttpClient client = TestCertificates.Instance.Client(protocols: protocol);
        Assert.That(await client.GetStringAsync(server.Url("/index/")), Is.EqualTo("OK"));
    }

    [Test]
    public async Task PlainAndHttpsEndpointsServeOneApp()
    {
        using var server = new HttpsServer(Routes(), poller, engine, alsoPlain: true);
        Assert.That(server.App.Endpoints, Has.Count.EqualTo(2));
        Assert.That(server.App.Endpoints[0].Url, Does.StartWith("https://127.0.0.1:"));
        Assert.That(server.App.Endpoints[1].Url, Does.StartWith("http://127.0.0.1:"));
        using HttpClient client = TestCertificates.Instance.Client();
        Assert.That(await client.GetStringAsync(server.Url("/scheme/")), Is.EqualTo("https True"));
        Assert.That(await client.GetStringAsync(new Uri($"{server.App.Endpoints[1].Url}scheme/")), Is.EqualTo("http False"));
    }

    [Test]
    public async Task LargeResponsesAndUploadsCrossManyRecords()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using HttpClient client = TestCertificates.Instance.Client();
        byte[] body = await client.GetByteArrayAsync(server.Url("/big/"));
        Assert.That(body, Is.EqualTo(BigBody));
        using var upload = new ByteArrayContent(BigBody);
        HttpResponseMessage response = await client.PostAsync(server.Url("/upload/"), upload);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(Convert.ToHexString(SHA256.HashData(BigBody))));
    }

    [Test]
    public void PipelinedRequestsAreAnsweredInOrder()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using TestClient client = server.ConnectRaw().StartTls();
        var pipeline = new StringBuilder();
        for (int i = 0; i < 20; i++) pipeline.Append(i % 2 == 0 ? "GET /index/ HTTP/1.1\r\nHost: x\r\n\r\n" : "GET /scheme/ HTTP/1.1\r\nHost: x\r\n\r\n");
        client.Send(pipeline.ToString());
        for (int i = 0; i < 20; i++)
        {
            Assert.That(client.ReadResponse().Text, Is.EqualTo(i % 2 == 0 ? "OK" : "https True"));
        }
    }

    [Test]
    public void AnIdleKeptAliveTlsConnectionHoldsNoBuffer()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using TestClient client = server.ConnectRaw().StartTls();
        client.Send("GET /index/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("OK"));
        Assert.That(RunningServer.Eventually(() => server.App.BuffersInUse == 0), Is.True, "buffers held by an idle TLS connection");
        Assert.That(server.App.ConnectionCount, Is.EqualTo(1));
    }
}
