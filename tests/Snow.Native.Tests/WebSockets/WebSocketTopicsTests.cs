using System.Net.WebSockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Protocol;
using Snow.Native.Tests.Server;
using Snow.Native.Transport;

namespace Snow.Native.Tests.WebSockets;

/// <summary>Publish/subscribe: one frame for every subscriber, on the in-memory transport (10,000 on one loop).</summary>
public sealed class WebSocketTopicsTests
{
    private static (ProtocolHarness Harness, List<InMemoryTransport> Connections, List<WebSocketConnection> Sockets) Subscribers(
        WebSocketTopics topics, int count, string topic = "news")
    {
        var sockets = new List<WebSocketConnection>();
        var harness = new ProtocolHarness([("^/ws$", r => r.AcceptWebSocket((_, _) => { }, onOpen: ws =>
        {
            sockets.Add(ws);
            topics.Subscribe(ws, topic);
        }, options: new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero }))]);
        byte[] handshake = Wire.Bytes(WsWire.Handshake());
        var connections = new List<InMemoryTransport>();
        for (int i = 0; i < count; i++)
        {
            InMemoryTransport connection = harness.Connect();
            connection.Feed(handshake);
            connections.Add(connection);
        }
        harness.RunPending();
        foreach (InMemoryTransport connection in connections) connection.TakeSent(); // the 101s
        return (harness, connections, sockets);
    }

    [Test]
    public void APublishReachesEverySubscriberOnceAndNobodyElse()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, sockets) = Subscribers(topics, 3);
        using (harness)
        {
            topics.Unsubscribe(sockets[2], "news");
            Assert.That(topics.SubscriberCount("news"), Is.EqualTo(2));
            Task.Run(() => topics.Publish("news", "from another thread")).Wait();
            topics.Publish("other", "nobody listens");
            harness.RunPending();
            var received = connections.Select(c => WsWire.Frames(c.TakeSent()).Select(f => f.ToString()).ToArray()).ToArray();
            Assert.That(received[0], Is.EqualTo(new[] { "op1 fin=True 'from another thread'" }));
            Assert.That(received[1], Is.EqualTo(received[0]));
            Assert.That(received[2], Is.Empty);
        }
    }

    [Test]
    public void AClosedConnectionLeavesItsTopics()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, _) = Subscribers(topics, 2);
        using (harness)
        {
            connections[0].FeedEnd();
            Assert.That(topics.SubscriberCount("news"), Is.EqualTo(1));
            topics.Publish("news", [1, 2, 3]);
            harness.RunPending();
            Assert.That(WsWire.Frames(connections[1].TakeSent()).Single().Payload, Is.EqualTo(new byte[] { 1, 2, 3 }));
        }
    }

    [Test]
    public void ASubscriberThatTakesNothingIsClosedAtItsHardLimitAndTheOthersGoOn()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, _) = Subscribers(topics, 2);
        using (harness)
        {
            connections[0].PeerAcceptsOutput = false;
            byte[] message = new byte[64 * 1024];
            for (int i = 0; i < WebSocketConnection.HardLimitFactor + 2; i++)
            {
                topics.Publish("news", message);
                harness.RunPending();
                connections[1].TakeSent();
            }
            Assert.That(connections[0].IsClosed, Is.True);
            Assert.That(connections[1].IsClosed, Is.False);
            Assert.That(topics.SubscriberCount("news"), Is.EqualTo(1));
        }
    }

    [Test]
    public void TenThousandSubscribersOnOneLoopEachGetTheMessage()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, _) = Subscribers(topics, 10_000);
        using (harness)
        {
            Assert.That(topics.SubscriberCount("news"), Is.EqualTo(10_000));
            topics.Publish("news", "to all");
            harness.RunPending();
            int reached = connections.Count(c => WsWire.Frames(c.TakeSent()).Single().Text == "to all");
            Assert.That(reached, Is.EqualTo(10_000));
        }
    }
}

/// <summary>Publish/subscribe over real sockets, subscribers on two loops, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
public sealed class WebSocketTopicsSocketTests(PollerKind poller)
{
    [Test]
    public async Task APublishReachesClientsOnEveryLoop()
    {
        var topics = new WebSocketTopics();
        using var server = new RunningServer([("^/sub$", r => r.AcceptWebSocket(async ws =>
        {
            topics.Subscribe(ws, "room");
            await ws.ReceiveAsync(); // until the close
        }))], poller, loops: 2);
        var clients = new List<ClientWebSocket>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                var client = new ClientWebSocket();
                await client.ConnectAsync(new Uri($"ws://127.0.0.1:{server.EndPoint.Port}/sub"), CancellationToken.None);
                clients.Add(client);
            }
            Assert.That(RunningServer.Eventually(() => topics.SubscriberCount("room") == 40), Is.True);
            Assert.That(server.App.ConnectionsPerLoop.All(n => n > 0), Is.True, "both loops have subscribers");
            topics.Publish("room", "hello, room");
            foreach (ClientWebSocket client in clients)
            {
                var buffer = new byte[64];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                WebSocketReceiveResult result = await client.ReceiveAsync(buffer, timeout.Token);
                Assert.That(Encoding.UTF8.GetString(buffer, 0, result.Count), Is.EqualTo("hello, room"));
            }
        }
        finally
        {
            foreach (ClientWebSocket client in clients) client.Dispose();
        }
    }
}
