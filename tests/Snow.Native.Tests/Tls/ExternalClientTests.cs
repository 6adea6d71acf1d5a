using System.Diagnostics;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>HTTPS as curl and openssl s_client see it: the chain, SNI, ALPN, both TLS versions, and handshake
/// edges (an h2-only offer, client-initiated renegotiation). Once per poller and TLS engine.</summary>
[TestFixtureSource(typeof(TlsVariants), nameof(TlsVariants.Cases))]
[NonParallelizable]
public sealed class ExternalClientTests(PollerKind poller, TlsEngine engine)
{
    private static TestCertificates Certificates => TestCertificates.Instance;

    private static Route[] Routes() => [("^/index/$", _ => new HttpResponse("OK"))];

    [OneTimeSetUp]
    public void Tools() => ExternalTools.Require("curl", "openssl");

    [Test]
    public void CurlWithTheCaCertificateGetsTheAnswer()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        (int code, string output) = Run("curl", "-sS", "--max-time", "20", "--cacert", Certificates.AuthorityPem,
            "-w", " %{http_version} %{ssl_verify_result}", $"https://localhost:{server.Port}/index/");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Is.EqualTo("OK 1.1 0"));
    }

    [TestCase("-tls1_2", "TLSv1.2")]
    [TestCase("-tls1_3", "TLSv1.3")]
    public void OpenSslSeesTheVersionTheChainAndAnswers(string version, string expected)
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        (int code, string output) = SClient(server, "GET /index/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            version, "-servername", "localhost", "-verify_return_error", "-ign_eof");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain(expected));
        Assert.That(output, Does.Contain("Verify return code: 0 (ok)"));
        Assert.That(output, Does.Contain("\r\n\r\nOK"));
    }

    [Test]
    public void SniThroughOpenSslPicksTheNamedCertificate()
    {
        using var a = Certificates.Issue("a.test");
        using var server = new HttpsServer(Routes(), poller, engine, https => https.ServerCertificates["a.test"] = new TlsCertificate(a));
        (_, string named) = SClient(server, "", "-servername", "a.test");
        (_, string other) = SClient(server, "", "-servername", "b.test");
        Assert.That(named, Does.Contain("subject=CN=a.test").Or.Contain("subject=CN = a.test"));
        Assert.That(other, Does.Contain("subject=CN=localhost").Or.Contain("subject=CN = localhost"));
    }

    [Test]
    public void AlpnChoosesHttp11AndRefusesAClientThatOffersOnlyH2()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        (_, string http11) = SClient(server, "GET /index/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "-alpn", "h2,http/1.1", "-servername", "localhost", "-ign_eof");
        Assert.That(http11, Does.Contain("ALPN protocol: http/1.1"));
        Assert.That(http11, Does.Contain("\r\n\r\nOK"));
        (_, string none) = SClient(server, "GET /index/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "-servername", "localhost", "-ign_eof");
        Assert.That(none, Does.Contain("No ALPN negotiated"));
        Assert.That(none, Does.Contain("\r\n\r\nOK"), "a client without ALPN speaks HTTP/1.1");
        // RFC 7301: no protocol in common is a fatal no_application_protocol alert (nginx does the same since 1.21.4).
        (int code, string h2) = SClient(server, "", "-alpn", "h2", "-servername", "localhost");
        Assert.That(code, Is.Not.EqualTo(0));
        Assert.That(h2, Does.Contain("no application protocol"));
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void ClientInitiatedRenegotiationIsRefusedAndLeavesNothing()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        // "R" at the start of a line asks s_client to renegotiate (TLS 1.2 only); the server must not go along.
        (int code, string output) = SClient(server, "R\n", "-tls1_2", "-servername", "localhost");
        Assert.That(output, Does.Contain("RENEGOTIATING"));
        Assert.That(code, Is.Not.EqualTo(0), "the server closes instead of renegotiating: " + output[^200..]);
        Assert.That(server.HoldsNothing(), Is.True);
    }

    private static (int Code, string Output) SClient(HttpsServer server, string input, params string[] arguments) =>
        Run("openssl", input, ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-CAfile", Certificates.AuthorityPem, .. arguments]);

    private static (int Code, string Output) Run(string program, params string[] arguments) => Run(program, "", arguments);

    private static (int Code, string Output) Run(string program, string input, string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within 30 s");
        }
        return (process.ExitCode, output.Result + errors.Result);
    }
}
