using System.Text;

namespace Snow.Native.Tests.WebSockets;

/// <summary>RFC 6455 after the handshake, over the in-memory transport: every rule of the issue has its own test.</summary>
public sealed class WebSocketProtocolTests
{
    private static WsSession Echo(WebSocketOptions? options = null) => new(r => r.AcceptWebSocket(WsSession.Echo, options));

    /// <summary>Feeds <paramref name="bytes"/> and expects the server to fail the connection with <paramref name="code"/>.</summary>
    private static void AssertFails(byte[] bytes, int code, WebSocketOptions? options = null)
    {
        using WsSession session = Echo(options);
        session.Feed(bytes);
        var frames = session.Frames();
        Assert.That(frames.Last().Opcode, Is.EqualTo(8), string.Join(", ", frames));
        Assert.That(frames.Last().CloseCode, Is.EqualTo(code));
        Assert.That(session.Connection.WriteShut || session.Connection.IsClosed, Is.True, "the server closes the connection");
    }

    [Test]
    public void TextAndBinaryMessagesAreEchoedAsTheSameKind()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Concat(WsWire.Text("héllo"), WsWire.Binary([1, 2, 3, 0, 255])));
        var frames = session.Frames();
        Assert.That(frames.Select(f => f.Opcode), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(frames[0].Text, Is.EqualTo("héllo"));
        Assert.That(frames[1].Payload, Is.EqualTo(new byte[] { 1, 2, 3, 0, 255 }));
        Assert.That(frames.All(f => f.Fin), Is.True);
    }

    [TestCase(0)]
    [TestCase(125)]
    [TestCase(126)]
    [TestCase(65535)]
    [TestCase(65536)]
    [TestCase(300_000)]
    public void PayloadLengthsOfEveryEncodingArriveWhole(int length)
    {
        byte[] data = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        using WsSession session = Echo();
        session.Feed(WsWire.Binary(data));
        Assert.That(session.Frames().Single().Payload, Is.EqualTo(data));
    }

    [Test]
    public void AFragmentedMessageIsReassembledWithControlFramesBetweenItsFragments()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Concat(WsWire.Text("one ", fin: false), WsWire.Ping("p1"), WsWire.Continuation("two ", fin: false),
            WsWire.Ping("p2"), WsWire.Continuation("three")));
        var frames = session.Frames();
        Assert.That(frames.Select(f => f.ToString()), Is.EqualTo(new[] { "op10 fin=True 'p1'", "op10 fin=True 'p2'", "op1 fin=True 'one two three'" }));
    }

    [Test]
    public void APingIsAnsweredWithAPongOfTheSamePayload()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Ping("are you there"));
        var pong = session.Frames().Single();
        Assert.That((pong.Opcode, pong.Text), Is.EqualTo((10, "are you there")));
    }

    [Test]
    public void AnUnsolicitedPongIsIgnored()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Concat(WsWire.Frame(10, "x"u8), WsWire.Text("after")));
        Assert.That(session.Frames().Single().Text, Is.EqualTo("after"));
    }

    [Test]
    public void TheClientsCloseIsEchoedAndTheSessionSeesItsCodeAndReason()
    {
        WebSocketMessage? last = null;
        using var session = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            last = await ws.ReceiveAsync();
        }));
        session.Feed(WsWire.Close(4001, "bye ✓"));
        var close = session.Frames().Single();
        Assert.That((close.Opcode, close.CloseCode), Is.EqualTo((8, 4001)));
        Assert.That(last?.Kind, Is.EqualTo(WebSocketMessageKind.Close));
        Assert.That((last?.CloseStatus, last?.CloseReason), Is.EqualTo(((int?)4001, "bye ✓")));
        Assert.That(session.Connection.WriteShut, Is.True, "the server closes the TCP connection first");
        session.Connection.FeedEnd();
        Assert.That(session.Connection.IsClosed, Is.True);
    }

    [Test]
    public void ACloseWithoutACodeIsAnsweredWithoutACode()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Close(null));
        var close = session.Frames().Single();
        Assert.That((close.Opcode, close.Payload.Length), Is.EqualTo((8, 0)));
    }

    [Test]
    public void TheServersCloseWaitsForTheClientsAnswer()
    {
        using var session = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            await ws.ReceiveAsync();
            await ws.CloseAsync(4000, "done");
        }));
        session.Feed(WsWire.Text("go"));
        var close = session.Frames().Single();
        Assert.That((close.Opcode, close.CloseCode, close.CloseReason), Is.EqualTo((8, 4000, "done")));
        Assert.That(session.Connection.IsClosed || session.Connection.WriteShut, Is.False, "waits for the client's close");
        session.Feed(WsWire.Concat(WsWire.Text("dropped"), WsWire.Close(4000)));
        Assert.That(session.Frames(), Is.Empty, "nothing more is sent after the close; the message is dropped");
        Assert.That(session.Connection.WriteShut, Is.True);
    }

    [Test]
    public void AClientThatNeverAnswersTheCloseIsClosedAfterTheCloseTimeout()
    {
        using var session = new WsSession(r => r.AcceptWebSocket(ws => ws.CloseAsync(), new WebSocketOptions { CloseTimeout = TimeSpan.FromSeconds(3) }));
        Assert.That(session.Frames().Single().CloseCode, Is.EqualTo(1000));
        session.Harness.Advance(TimeSpan.FromSeconds(2));
        Assert.That(session.Connection.IsClosed, Is.False);
        session.Harness.Advance(TimeSpan.FromSeconds(2));
        Assert.That(session.Connection.IsClosed, Is.True);
    }

    [Test]
    public void ASessionThatEndsClosesNormallyAndOneThatThrowsCloses1011()
    {
        using (var ended = new WsSession(r => r.AcceptWebSocket(_ => Task.CompletedTask)))
        {
            Assert.That(ended.Frames().Single().CloseCode, Is.EqualTo(1000));
        }
        using var threw = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            await ws.ReceiveAsync();
            throw new InvalidOperationException("boom");
        }));
        threw.Feed(WsWire.Text("x"));
        Assert.That(threw.Frames().Single().CloseCode, Is.EqualTo(1011));
    }

    [Test]
    public void AnEndOfStreamWithoutACloseEndsTheSessionWith1006()
    {
        WebSocketMessage? last = null;
        using var session = new WsSession(r => r.AcceptWebSocket(async ws => last = await ws.ReceiveAsync()));
        session.Connection.FeedEnd();
        session.Settle();
        Assert.That(session.Connection.IsClosed, Is.True);
        Assert.That(last?.CloseStatus, Is.EqualTo(1006));
    }

    [Test]
    public void AnUnmaskedClientFrameFails1002() => AssertFails(WsWire.Frame(1, "hi"u8, masked: false), 1002);

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    [TestCase(7)]
    public void AReservedBitWithoutAnExtensionFails1002(int rsv) => AssertFails(WsWire.Frame(1, "hi"u8, rsv: rsv), 1002);

    [TestCase(3)]
    [TestCase(7)]
    [TestCase(0xB)]
    [TestCase(0xF)]
    public void AReservedOpcodeFails1002(int opcode) => AssertFails(WsWire.Frame(opcode, "hi"u8), 1002);

    [Test]
    public void AControlFrameOver125BytesFails1002() => AssertFails(WsWire.Frame(9, new byte[126]), 1002);

    [Test]
    public void AFragmentedControlFrameFails1002() => AssertFails(WsWire.Frame(9, "x"u8, fin: false), 1002);

    [Test]
    public void AContinuationWithoutAMessageFails1002() => AssertFails(WsWire.Continuation("x"), 1002);

    [Test]
    public void ANewMessageInsideAFragmentedOneFails1002() =>
        AssertFails(WsWire.Concat(WsWire.Text("a", fin: false), WsWire.Text("b")), 1002);

    [Test]
    public void AnInvalidUtf8TextMessageFails1007() => AssertFails(WsWire.Frame(1, [0xCE, 0xBA, 0xE1, 0xBD]), 1007);

    [Test]
    public void InvalidUtf8AcrossFragmentsFails1007() =>
        AssertFails(WsWire.Concat(WsWire.Frame(1, [0xCE], fin: false), WsWire.Frame(0, [0xFF])), 1007);

    [Test]
    public void Utf8SplitAcrossFragmentsIsValid()
    {
        using WsSession session = Echo();
        byte[] euro = Encoding.UTF8.GetBytes("€");
        session.Feed(WsWire.Concat(WsWire.Frame(1, euro.AsSpan(0, 1), fin: false), WsWire.Frame(0, euro.AsSpan(1))));
        Assert.That(session.Frames().Single().Text, Is.EqualTo("€"));
    }

    [Test]
    public void ACloseReasonThatIsNotUtf8Fails1007() => AssertFails(WsWire.Frame(8, [0x03, 0xE8, 0xFF, 0xFE]), 1007);

    [Test]
    public void ACloseFrameOfOneByteFails1002() => AssertFails(WsWire.Frame(8, [0x03]), 1002);

    [TestCase(0)]
    [TestCase(999)]
    [TestCase(1004)]
    [TestCase(1005)]
    [TestCase(1006)]
    [TestCase(1015)]
    [TestCase(1016)]
    [TestCase(2999)]
    [TestCase(5000)]
    [TestCase(65535)]
    public void ACloseCodeThatMayNotBeSentFails1002(int code) => AssertFails(WsWire.Close(code), 1002);

    [TestCase(1000)]
    [TestCase(1001)]
    [TestCase(1003)]
    [TestCase(1007)]
    [TestCase(1011)]
    [TestCase(1014)]
    [TestCase(3000)]
    [TestCase(4999)]
    public void AValidCloseCodeIsEchoed(int code)
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Close(code));
        Assert.That(session.Frames().Single().CloseCode, Is.EqualTo(code));
    }

    [Test]
    public void AMessageOverTheLimitFails1009()
    {
        var options = new WebSocketOptions { MaxMessageBytes = 1000 };
        using (WsSession session = Echo(options))
        {
            session.Feed(WsWire.Binary(new byte[1000]));
            Assert.That(session.Frames().Single().Payload.Length, Is.EqualTo(1000), "the limit itself is allowed");
        }
        AssertFails(WsWire.Binary(new byte[1001]), 1009, options);
    }

    [Test]
    public void FragmentsThatTogetherPassTheLimitFail1009()
    {
        var options = new WebSocketOptions { MaxMessageBytes = 1000 };
        AssertFails(WsWire.Concat(WsWire.Frame(2, new byte[600], fin: false), WsWire.Frame(0, new byte[600])), 1009, options);
    }

    [Test]
    public void AHugeAnnouncedLengthFails1009BeforeAnyPayloadArrives()
    {
        byte[] head = WsWire.Frame(2, new byte[70_000]).Take(14).ToArray(); // the head alone: 127, a 64-bit length, the key
        AssertFails(head, 1009, new WebSocketOptions { MaxMessageBytes = 1000 });
    }

    [Test]
    public void ALengthWithItsTopBitSetFails1002()
    {
        byte[] frame = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
        AssertFails(frame, 1002);
    }

    [Test]
    public void NothingIsReadAfterAFailure()
    {
        using WsSession session = Echo();
        session.Feed(WsWire.Concat(WsWire.Frame(3, []), WsWire.Text("ignored")));
        Assert.That(session.Frames().Select(f => f.Opcode), Is.EqualTo(new[] { 8 }));
    }

    [Test]
    public void TheKeepAlivePingsAnIdleConnectionAndClosesOneThatStaysSilent()
    {
        using WsSession session = Echo(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(10) });
        session.Harness.Advance(TimeSpan.FromSeconds(11));
        Assert.That(session.Frames().Single().Opcode, Is.EqualTo(9), "a ping");
        session.Feed(WsWire.Frame(10, []));
        session.Harness.Advance(TimeSpan.FromSeconds(11));
        Assert.That(session.Frames().Single().Opcode, Is.EqualTo(9), "the pong kept it alive: another ping");
        session.Harness.Advance(TimeSpan.FromSeconds(11));
        Assert.That(session.Connection.IsClosed, Is.True, "two intervals without a byte");
    }
}
