using System.Net.WebSockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;
using Snow.Native.Tests.Tls;

namespace Snow.Native.Tests.WebSockets;

/// <summary>wss://: the same WebSocket protocol over the TLS transport, with .NET's ClientWebSocket, once per poller
/// and TLS engine.</summary>
[TestFixtureSource(typeof(TlsVariants), nameof(TlsVariants.Cases))]
public sealed class SecureWebSocketTests(PollerKind poller, TlsEngine engine)
{
    [Test]
    public async Task AnEchoOverWssWithCompressionAndTheCloseHandshake()
    {
        var options = new WebSocketOptions { EnableCompression = true };
        using var server = new HttpsServer([("^/ws$", r => r.AcceptWebSocket(WsSession.Echo, options))], poller, engine);
        using var client = new ClientWebSocket();
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TestCertificates.Instance.Trusts(certificate, errors);
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(new Uri($"wss://localhost:{server.Port}/ws"), timeout.Token);
        foreach (int size in new[] { 5, 70_000, 300_000 })
        {
            byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("secure and compressed ", size / 22 + 1)))[..size];
            await client.SendAsync(data, WebSocketMessageType.Text, true, timeout.Token);
            Assert.That(await ReceiveMessage(client, timeout.Token), Is.EqualTo(data), $"{size} bytes");
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(server.HoldsNothing(), Is.True, "no connection or buffer left");
    }

    [Test]
    public async Task ABroadcastOverWssReachesEverySubscriberInOrder()
    {
        var topics = new WebSocketTopics();
        using var server = new HttpsServer([("^/sub$", r => r.AcceptWebSocket(async ws =>
        {
            topics.Subscribe(ws, "room");
            await ws.ReceiveAsync(); // until the close
        }))], poller, engine);
        var clients = new List<ClientWebSocket>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            for (int i = 0; i < 20; i++)
            {
                var client = new ClientWebSocket();
                client.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TestCertificates.Instance.Trusts(certificate, errors);
                await client.ConnectAsync(new Uri($"wss://localhost:{server.Port}/sub"), timeout.Token);
                clients.Add(client);
            }
            Assert.That(RunningServer.Eventually(() => topics.SubscriberCount("room") == 20), Is.True);
            // Small and large messages (one past a TLS record's 16 KiB), from another thread, while the clients
            // read nothing yet: later frames queue behind the ones the sockets could not take at once.
            byte[][] messages = Enumerable.Range(0, 30).Select(i => Encoding.UTF8.GetBytes($"{i}:" + new string((char)('a' + i % 26), i % 3 == 0 ? 40_000 : 10))).ToArray();
            await Task.Run(() =>
            {
                foreach (byte[] message in messages) topics.Publish("room", message);
            });
            foreach (ClientWebSocket client in clients)
            {
                foreach (byte[] expected in messages)
                {
                    Assert.That(await ReceiveMessage(client, timeout.Token), Is.EqualTo(expected));
                }
            }
        }
        finally
        {
            foreach (ClientWebSocket client in clients) client.Dispose();
        }
        Assert.That(server.HoldsNothing(), Is.True, "no connection or buffer left");
    }

    /// <summary>One whole message, however many reads it takes.</summary>
    private static async Task<byte[]> ReceiveMessage(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16384];
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(buffer, cancellationToken);
            received.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return received.ToArray();
    }
}
