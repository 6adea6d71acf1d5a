using System.Net.WebSockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.WebSockets;

/// <summary>.NET's ClientWebSocket against the server, over real sockets, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
public sealed class ClientWebSocketTests(PollerKind poller)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static async Task<ClientWebSocket> Connect(RunningServer server, string path, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new ClientWebSocket();
        configure?.Invoke(client.Options);
        using var timeout = new CancellationTokenSource(Bound);
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.EndPoint.Port}{path}"), timeout.Token);
        return client;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Data, WebSocketReceiveResult Last)> Receive(ClientWebSocket client)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var data = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            WebSocketReceiveResult result = await client.ReceiveAsync(buffer, timeout.Token);
            data.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return (result.MessageType, data.ToArray(), result);
        }
    }

    [TestCase("/ws/echo")]
    [TestCase("/ws/callback")]
    public async Task TextAndBinaryMessagesOfEverySizeComeBackAsTheyWent(string path)
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, path);
        foreach (int size in new[] { 0, 1, 125, 126, 65535, 65536, 500_000 })
        {
            byte[] data = Enumerable.Range(0, size).Select(i => (byte)(i % 251)).ToArray();
            await client.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);
            var (type, echoed, _) = await Receive(client);
            Assert.That(type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(echoed, Is.EqualTo(data), $"{size} bytes");
        }
        await client.SendAsync(Encoding.UTF8.GetBytes("grüße ✓"), WebSocketMessageType.Text, true, CancellationToken.None);
        var text = await Receive(client);
        Assert.That((text.Type, Encoding.UTF8.GetString(text.Data)), Is.EqualTo((WebSocketMessageType.Text, "grüße ✓")));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
    }

    [Test]
    public async Task AMessageSentInFragmentsArrivesAsOne()
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, "/ws/echo");
        foreach (string part in new[] { "one ", "two ", "three" })
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(part), WebSocketMessageType.Text, part == "three", CancellationToken.None);
        }
        var (_, data, _) = await Receive(client);
        Assert.That(Encoding.UTF8.GetString(data), Is.EqualTo("one two three"));
    }

    [Test]
    public async Task TheServersCloseReachesTheClientWithItsCodeAndReason()
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, "/ws/close");
        await client.SendAsync("now"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var (type, _, last) = await Receive(client);
        Assert.That(type, Is.EqualTo(WebSocketMessageType.Close));
        Assert.That(((int?)last.CloseStatus, last.CloseStatusDescription), Is.EqualTo(((int?)4000, "closing: now")));
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 0), Is.True);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task CompressedMessagesComeBackAsTheyWent(bool contextTakeover)
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, "/ws/echo", o => o.DangerousDeflateOptions = new WebSocketDeflateOptions
        {
            ClientContextTakeover = contextTakeover,
            ServerContextTakeover = contextTakeover,
        });
        Assert.That(client.HttpResponseHeaders, Is.Null.Or.Not.Null); // headers are only kept when asked; the echo is the proof
        for (int round = 0; round < 5; round++)
        {
            byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"compressible text, round {round}. ", 2000)));
            await client.SendAsync(data, WebSocketMessageType.Text, true, CancellationToken.None);
            var (type, echoed, _) = await Receive(client);
            Assert.That((type, echoed), Is.EqualTo((WebSocketMessageType.Text, data)));
        }
    }

    [Test]
    public async Task ASubprotocolIsNegotiated()
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, "/ws/echo", o =>
        {
            o.AddSubProtocol("chat.v1");
            o.AddSubProtocol("chat.v2");
        });
        Assert.That(client.SubProtocol, Is.EqualTo("chat.v2"));
    }

    [Test]
    public async Task AMessageOverTheLimitClosesWith1009()
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        using ClientWebSocket client = await Connect(server, "/ws/small");
        await client.SendAsync(new byte[1001], WebSocketMessageType.Binary, true, CancellationToken.None);
        var (type, _, last) = await Receive(client);
        Assert.That((type, last.CloseStatus), Is.EqualTo((WebSocketMessageType.Close, (WebSocketCloseStatus?)WebSocketCloseStatus.MessageTooBig)));
    }

    [Test]
    public async Task FiftyClientsEchoAtOnce()
    {
        using RunningServer server = WebSocketTestServer.Start(poller);
        ClientWebSocket[] clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Connect(server, "/ws/echo")));
        try
        {
            await Task.WhenAll(clients.Select(async (client, i) =>
            {
                for (int round = 0; round < 20; round++)
                {
                    byte[] data = Encoding.UTF8.GetBytes($"{i}/{round}");
                    await client.SendAsync(data, WebSocketMessageType.Text, true, CancellationToken.None);
                    var (_, echoed, _) = await Receive(client);
                    Assert.That(echoed, Is.EqualTo(data));
                }
            }));
        }
        finally
        {
            foreach (ClientWebSocket client in clients) client.Dispose();
        }
    }
}
