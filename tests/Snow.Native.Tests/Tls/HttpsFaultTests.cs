using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>
/// What a TLS port does with clients that misbehave, once per poller and TLS engine: every one is answered or closed, never left
/// hanging, and each leaves nothing behind (no connection, no pooled buffer).
/// </summary>
[TestFixtureSource(typeof(TlsVariants), nameof(TlsVariants.Cases))]
[NonParallelizable]
public sealed class HttpsFaultTests(PollerKind poller, TlsEngine engine)
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(10);

    private static Route[] Routes() => [("^/index/$", _ => new HttpResponse("OK"))];

    [Test]
    public void PlainHttpToTheTlsPortGetsAClearText400AndAClose()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using TestClient client = server.ConnectRaw(Short);
        client.Send("GET /index/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(400));
        Assert.That(response.Text, Does.Contain("HTTPS"));
        Assert.That(response.Closes, Is.True);
        Assert.That(client.WaitForClose(), Is.True);
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void BytesThatAreNeitherTlsNorTextAreClosedAtOnce()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        using TestClient client = server.ConnectRaw(Short);
        client.Send([0x00, 0x01, 0x02, 0x03]);
        Assert.That(client.WaitForClose(), Is.True);
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void AHandshakeThatNeverStartsIsClosedByTheHandshakeTimeout()
    {
        using var server = new HttpsServer(Routes(), poller, engine, https => https.HandshakeTimeout = TimeSpan.FromSeconds(1));
        using TestClient client = server.ConnectRaw(Short);
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 1), Is.True);
        Assert.That(client.WaitForClose(), Is.True, "closed by the server within the client's 10 s");
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void AHandshakeStoppedHalfWayIsClosedByTheHandshakeTimeout()
    {
        using var server = new HttpsServer(Routes(), poller, engine, https => https.HandshakeTimeout = TimeSpan.FromSeconds(1));
        using TestClient client = server.ConnectRaw(Short);
        byte[] hello = ClientHello();
        client.Send(hello.AsSpan(0, hello.Length / 2)); // half a ClientHello, then nothing
        Assert.That(client.WaitForClose(), Is.True);
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void TruncatedHandshakesAndResetsInEveryStateLeakNothing()
    {
        using var server = new HttpsServer(Routes(), poller, engine);
        byte[] hello = ClientHello();
        foreach (int cut in new[] { 1, 5, 6, hello.Length / 2, hello.Length - 1, hello.Length })
        {
            foreach (bool reset in new[] { false, true })
            {
                var client = server.ConnectRaw(Short);
                client.Send(hello.AsSpan(0, cut));
                if (reset) client.Socket.LingerState = new LingerOption(true, 0); // close sends RST
                client.Dispose();
            }
        }
        // After a completed handshake: a reset, an end of stream, and a record that is not a record.
        using (TestClient done = server.ConnectRaw(Short).StartTls())
        {
            done.Socket.LingerState = new LingerOption(true, 0);
        }
        using (TestClient done = server.ConnectRaw(Short).StartTls())
        {
            done.Socket.Shutdown(SocketShutdown.Send);
            Assert.That(done.WaitForClose(), Is.True);
        }
        using (TestClient garbage = server.ConnectRaw(Short).StartTls())
        {
            garbage.Socket.Send([0x17, 0x03, 0x03, 0x00, 0x20, .. RandomNumberGenerator.GetBytes(32)]); // application data that fails to decrypt
            Assert.That(garbage.WaitForClose(), Is.True, "a bad record closes the connection");
        }
        using (TestClient torn = server.ConnectRaw(Short).StartTls())
        {
            torn.Send("GET /index/ HTTP/1.1\r\nHo"); // half a request, then a reset
            torn.Socket.LingerState = new LingerOption(true, 0);
        }
        Assert.That(server.HoldsNothing(), Is.True, "connections or buffers left behind");

        // And the port still serves.
        using TestClient good = server.ConnectRaw(Short).StartTls();
        good.Send("GET /index/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(good.ReadResponse().Text, Is.EqualTo("OK"));
    }

    [Test]
    public void AClientOfferingNoSharedVersionFailsTheHandshakeCleanly()
    {
        using var server = new HttpsServer(Routes(), poller, engine, https => https.EnabledProtocols = System.Security.Authentication.SslProtocols.Tls13);
        using TestClient client = server.ConnectRaw(Short);
        Assert.Throws(Is.InstanceOf<Exception>(), () => client.StartTls(options: new System.Net.Security.SslClientAuthenticationOptions
        {
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
        }));
        Assert.That(server.HoldsNothing(), Is.True);
    }

    [Test]
    public void StoppingTheServerClosesHandshakesAndIdleTlsConnections()
    {
        var server = new HttpsServer(Routes(), poller, engine);
        using TestClient waiting = server.ConnectRaw(Short); // no handshake yet
        using TestClient idle = server.ConnectRaw(Short).StartTls();
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 2), Is.True);
        server.Dispose();
        Assert.That(waiting.WaitForClose(), Is.True);
        Assert.That(idle.WaitForClose(), Is.True);
    }

    /// <summary>A real ClientHello, as .NET's client sends it: captured from a handshake against a listener that only records.</summary>
    private static byte[] ClientHello()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        client.Connect((System.Net.IPEndPoint)listener.LocalEndpoint);
        using TcpClient accepted = listener.AcceptTcpClient();
        var tls = new System.Net.Security.SslStream(client.GetStream());
        Task handshake = tls.AuthenticateAsClientAsync("localhost");
        var buffer = new byte[16 * 1024];
        accepted.ReceiveTimeout = 10_000;
        int n = accepted.GetStream().Read(buffer);
        while (n < 5 || n < 5 + ((buffer[3] << 8) | buffer[4])) n += accepted.GetStream().Read(buffer, n, buffer.Length - n);
        client.Close();
        try
        {
            handshake.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the handshake fails once the socket closes: only its hello was wanted
        }
        Assert.That(buffer[0], Is.EqualTo(0x16), "a handshake record");
        return buffer.AsSpan(0, n).ToArray();
    }
}
