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
    public void AFrameGoesStraightFromThePublishersCopyWithoutTakingABuffer()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, _) = Subscribers(topics, 3);
        using (harness)
        {
            int buffersBefore = harness.Context.Pool.InUse;
            topics.Publish("news", "once");
            harness.RunPending();
            Assert.That(connections.Select(c => c.DirectSends), Is.All.EqualTo(1), "one send each, from the shared frame");
            Assert.That(harness.Context.Pool.InUse, Is.EqualTo(buffersBefore), "no output buffer was taken for it");
            Assert.That(connections.Select(c => WsWire.Frames(c.TakeSent()).Single().Text), Is.All.EqualTo("once"));
        }
    }

    [Test]
    public void SubscribersWhoseOutputIsBlockedGetEveryFrameInOrderOnceAndTheOthersAreNotHeldUp()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, _) = Subscribers(topics, 4);
        using (harness)
        {
            connections[0].PeerAcceptsOutput = false; // blocked from the start
            connections[1].PeerWindow = 5;            // takes part of the first frame, then nothing
            var expected = new List<string>();
            for (int i = 0; i < 5; i++)
            {
                string message = $"message {i} " + new string('x', i * 40);
                expected.Add(message);
                topics.Publish("news", message);
                harness.RunPending();
                // The subscribers that take their output have each message at once, whatever the slow ones do.
                foreach (InMemoryTransport open in connections.Skip(2))
                {
                    Assert.That(WsWire.Frames(open.TakeSent()).Select(f => f.Text), Is.EqualTo(new[] { message }));
                }
            }
            Assert.That(connections[0].OutputPending, Is.GreaterThan(0));
            Assert.That(connections[1].OutputPending, Is.GreaterThan(0), "the rest of the partly sent frame and the later ones wait");
            connections[0].PeerAcceptsOutput = true;
            connections[1].PeerWindow = long.MaxValue;
            foreach (InMemoryTransport slow in connections.Take(2))
            {
                Assert.That(WsWire.Frames(slow.TakeSent()).Select(f => f.Text), Is.EqualTo(expected));
            }
            // Once drained, the next frame goes straight out again.
            int direct = connections[0].DirectSends;
            topics.Publish("news", "after");
            harness.RunPending();
            Assert.That(connections[0].DirectSends, Is.EqualTo(direct + 1));
            Assert.That(connections.Select(c => WsWire.Frames(c.TakeSent()).Single().Text), Is.All.EqualTo("after"));
        }
    }

    [Test]
    public void FramesSentFromAnotherThreadBeforeAPublishGoFirst()
    {
        var topics = new WebSocketTopics();
        var (harness, connections, sockets) = Subscribers(topics, 1);
        using (harness)
        {
            Task.Run(() => sockets[0].Send("queued first")).Wait(); // waits in the connection until the loop runs
            topics.Publish("news", "published second");
            harness.RunPending();
            Assert.That(WsWire.Frames(connections[0].TakeSent()).Select(f => f.Text), Is.EqualTo(new[] { "queued first", "published second" }));
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
