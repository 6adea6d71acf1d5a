using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.WebSockets;

/// <summary>
/// What an idle WebSocket holds, counted in live managed bytes over many connections on the in-memory transport
/// (a full collection before each count): no buffer, no handshake leftovers, no per-connection closure or record.
/// </summary>
[NonParallelizable]
public sealed class WebSocketIdleMemoryTests
{
    private const int Connections = 2000;

    private static async Task Session(WebSocketConnection ws)
    {
        while (!(await ws.ReceiveAsync()).IsClose)
        {
        }
    }

    /// <summary>Live bytes per connection of <paramref name="count"/> idle WebSockets accepted by <paramref name="accept"/>.</summary>
    private static long BytesPerIdleConnection(Func<HttpRequest, HttpResponseBase> accept, out ProtocolHarness harness, out List<InMemoryTransport> connections)
    {
        harness = new ProtocolHarness([("^/ws$", accept)]);
        byte[] handshake = Wire.Bytes(WsWire.Handshake());
        connections = new List<InMemoryTransport>(Connections + 16);
        // A few first: the loop's tables and the pool exist before the count starts.
        for (int i = 0; i < 16; i++) connections.Add(Open(harness, handshake));
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < Connections; i++) connections.Add(Open(harness, handshake));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(connections);
        return (after - before) / Connections;
    }

    private static InMemoryTransport Open(ProtocolHarness harness, byte[] handshake)
    {
        InMemoryTransport connection = harness.Connect();
        connection.Feed(handshake);
        for (int i = 0; i < 3; i++) harness.RunPending();
        connection.TakeSent();
        return connection;
    }

    [Test]
    public void AnIdleAsyncSessionHoldsItsConnectionItsTransportAndItsStateMachineOnly()
    {
        long perConnection = BytesPerIdleConnection(r => r.AcceptWebSocket(Session), out ProtocolHarness harness, out var connections);
        using (harness)
        {
            TestContext.Out.WriteLine($"{perConnection} live bytes per idle async session");
            // The connection, the in-memory transport, the session's state machine and the one delegate that hears of
            // the session's end: 564 B here when written (it was 740 B with a handlers record, a gate, a closure, the
            // whole message struct and the rare send, close and deflate state in every connection).
            Assert.That(perConnection, Is.LessThan(610));
            Assert.That(harness.Context.Pool.InUse, Is.EqualTo(0), "idle connections hold no pooled buffer");
            Assert.That(connections.All(c => !c.IsClosed), Is.True);
        }
    }

    [Test]
    public void AnIdleCallbackWebSocketHoldsItsConnectionAndItsTransportOnly()
    {
        long perConnection = BytesPerIdleConnection(r => r.AcceptWebSocket(static (ws, message) => ws.Send(message.Data.Span, message.Kind)),
            out ProtocolHarness harness, out var connections);
        using (harness)
        {
            TestContext.Out.WriteLine($"{perConnection} live bytes per idle callback-style WebSocket");
            // 353 B here when written (it was 509 B).
            Assert.That(perConnection, Is.LessThan(400));
            Assert.That(harness.Context.Pool.InUse, Is.EqualTo(0), "idle connections hold no pooled buffer");
            Assert.That(connections.All(c => !c.IsClosed), Is.True);
        }
    }

    [Test]
    public void ConnectionsAcceptedWithTheSameDelegatesShareOneHandlersRecord()
    {
        Func<WebSocketConnection, Task> session = Session;
        WebSocketHandlers first = WebSocketHandlers.For(session, null, null, null);
        Assert.That(WebSocketHandlers.For(session, null, null, null), Is.SameAs(first));
        int captured = 1;
        Func<WebSocketConnection, Task> closure = ws => captured > 0 ? Session(ws) : Task.CompletedTask;
        WebSocketHandlers other = WebSocketHandlers.For(closure, null, null, null);
        Assert.That(other, Is.Not.SameAs(first));
        Assert.That(other.Session, Is.SameAs(closure), "different delegates get their own record");
    }
}
