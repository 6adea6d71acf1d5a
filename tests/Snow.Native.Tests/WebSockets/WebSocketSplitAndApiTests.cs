using System.Text;

namespace Snow.Native.Tests.WebSockets;

/// <summary>Frames split at every byte, back-pressure both ways, sending from other threads, and the callback style.</summary>
public sealed class WebSocketSplitAndApiTests
{
    private static readonly byte[] Conversation = WsWire.Concat(
        WsWire.Text("héllo wörld"),
        WsWire.Binary(Enumerable.Range(0, 300).Select(i => (byte)i).ToArray()),
        WsWire.Text("frag", fin: false), WsWire.Ping("between"), WsWire.Continuation("mented ✓"),
        WsWire.Frame(1, []),
        WsWire.Close(1000, "end"));

    private static string Transcript(WsSession session) => string.Join(" | ", session.Frames());

    [Test]
    public void AConversationSplitAtEveryByteGetsTheSameAnswers()
    {
        string expected;
        using (WsSession whole = new(r => r.AcceptWebSocket(WsSession.Echo)))
        {
            whole.Feed(Conversation);
            expected = Transcript(whole);
        }
        Assert.That(expected, Does.Contain("héllo wörld").And.Contain("fragmented ✓").And.Contain("close 1000"));
        for (int cut = 1; cut < Conversation.Length; cut++)
        {
            using WsSession split = new(r => r.AcceptWebSocket(WsSession.Echo));
            split.FeedSplit(Conversation, cut);
            Assert.That(Transcript(split), Is.EqualTo(expected), $"cut at byte {cut}");
        }
    }

    [Test]
    public void AConversationFedOneByteAtATimeGetsTheSameAnswers()
    {
        using WsSession whole = new(r => r.AcceptWebSocket(WsSession.Echo));
        whole.Feed(Conversation);
        string expected = Transcript(whole);
        using WsSession bytes = new(r => r.AcceptWebSocket(WsSession.Echo));
        bytes.FeedSplit(Conversation, Enumerable.Range(1, Conversation.Length - 1).ToArray());
        Assert.That(Transcript(bytes), Is.EqualTo(expected));
    }

    [Test]
    public void EveryRuleViolationIsFoundWhateverTheSplit()
    {
        byte[][] violations =
        [
            WsWire.Frame(1, "hi"u8, masked: false),
            WsWire.Frame(1, "hi"u8, rsv: 2),
            WsWire.Frame(0xB, "hi"u8),
            WsWire.Frame(9, new byte[126]),
            WsWire.Concat(WsWire.Text("a", fin: false), WsWire.Text("b")),
            WsWire.Frame(1, [0x61, 0xFF, 0x62]),
            WsWire.Frame(8, [0x03, 0xE8, 0xC3]),
            WsWire.Close(1006),
        ];
        int[] codes = [1002, 1002, 1002, 1002, 1002, 1007, 1007, 1002];
        for (int v = 0; v < violations.Length; v++)
        {
            byte[] bytes = WsWire.Concat(WsWire.Text("ok"), violations[v]);
            for (int cut = 1; cut < bytes.Length; cut++)
            {
                using WsSession session = new(r => r.AcceptWebSocket(WsSession.Echo));
                session.FeedSplit(bytes, cut);
                var frames = session.Frames();
                Assert.That(frames.Select(f => f.ToString()), Is.EqualTo(new[] { "op1 fin=True 'ok'", $"close {codes[v]} " + frames.Last().CloseReason }), $"violation {v}, cut {cut}");
            }
        }
    }

    [Test]
    public void NothingIsReadWhileNobodyReceivesSoTheClientWaitsInTcp()
    {
        var go = new TaskCompletionSource();
        using var session = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            await go.Task;
            await WsSession.Echo(ws);
        }));
        byte[] message = WsWire.Binary(new byte[1000]);
        int fed = 0;
        for (int i = 0; i < 100; i++) fed += session.Connection.FeedWhileReading(message);
        Assert.That(fed, Is.LessThan(100 * message.Length), "the transport stopped reading");
        Assert.That(session.Connection.Reading, Is.False);
        Assert.That(session.Connection.Input.Capacity, Is.LessThanOrEqualTo(4096), "and buffered no more than its read buffer");
        go.SetResult();
        Assert.That(session.Harness.RunUntil(() => session.Connection.Reading), Is.True, "receiving again resumes reading");
    }

    [Test]
    public void ASenderThatOutrunsItsClientWaitsInsteadOfBuffering()
    {
        int sent = 0;
        var done = false;
        var options = new WebSocketOptions { MaxQueuedBytes = 10_000 };
        var go = new TaskCompletionSource();
        using var session = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            await go.Task;
            byte[] chunk = new byte[1000];
            for (int i = 0; i < 200; i++)
            {
                await ws.SendAsync(chunk);
                sent++;
            }
            done = true;
        }, options));
        session.Connection.PeerAcceptsOutput = false;
        go.SetResult();
        session.Harness.RunUntil(() => false, TimeSpan.FromMilliseconds(200));
        Assert.That(sent, Is.LessThan(15), "the session waits once about MaxQueuedBytes are queued");
        Assert.That(session.Connection.OutputPending, Is.LessThan(12_000));
        session.Connection.PeerAcceptsOutput = true;
        int frames = 0;
        Assert.That(session.Harness.RunUntil(() =>
        {
            frames += WsWire.Frames(session.Connection.TakeSent()).Count(f => f.Opcode == 2);
            return done;
        }), Is.True);
        frames += WsWire.Frames(session.Connection.TakeSent()).Count(f => f.Opcode == 2);
        Assert.That(frames, Is.EqualTo(200));
    }

    [Test]
    public void ASenderThatIgnoresBackPressureIsClosedAtTheHardLimit()
    {
        WebSocketConnection? socket = null;
        var options = new WebSocketOptions { MaxQueuedBytes = 1000 };
        using var session = new WsSession(r => r.AcceptWebSocket((_, _) => { }, onOpen: ws => socket = ws, options: options));
        session.Connection.PeerAcceptsOutput = false;
        int accepted = 0;
        for (int i = 0; i < 100 && socket!.Send(new byte[500]); i++) accepted++;
        Assert.That(accepted, Is.InRange(30, 33), "16 x 1000 bytes, then the send that passes it fails");
        session.Settle();
        Assert.That(session.Connection.IsClosed, Is.True);
    }

    [Test]
    public void SendsFromOtherThreadsArriveWholeAndInOrderPerThread()
    {
        WebSocketConnection? socket = null;
        using var session = new WsSession(r => r.AcceptWebSocket((_, _) => { }, onOpen: ws => socket = ws));
        Task[] senders = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 250; i++) Assert.That(socket!.Send($"{t}:{i}"), Is.True);
        })).ToArray();
        var texts = new List<string>();
        Assert.That(session.Harness.RunUntil(() =>
        {
            texts.AddRange(WsWire.Frames(session.Connection.TakeSent()).Select(f => f.Text));
            return texts.Count == 1000;
        }), Is.True, $"got {texts.Count}");
        Task.WaitAll(senders);
        for (int t = 0; t < 4; t++)
        {
            Assert.That(texts.Where(x => x.StartsWith($"{t}:")).Select(x => int.Parse(x[2..])), Is.EqualTo(Enumerable.Range(0, 250)));
        }
    }

    [Test]
    public void TheCallbackStyleEchoesAndHearsOfTheClose()
    {
        var log = new List<string>();
        using var session = new WsSession(r => r.AcceptWebSocket(
            (ws, message) => { log.Add(message.Kind + ":" + message.Text); ws.Send(message.Data.Span, message.Kind); },
            onOpen: _ => log.Add("open"),
            onClosed: ws => log.Add("closed " + ws.CloseStatus)));
        session.Feed(WsWire.Concat(WsWire.Text("a"), WsWire.Binary("b"u8.ToArray()), WsWire.Close(1001)));
        var frames = session.Frames();
        Assert.That(frames.Select(f => f.ToString()), Is.EqualTo(new[] { "op1 fin=True 'a'", "op2 fin=True 'b'", "close 1001 " }));
        session.Connection.FeedEnd();
        Assert.That(log, Is.EqualTo(new[] { "open", "Text:a", "Binary:b", "closed 1001" }));
    }

    [Test]
    public void ReceiveAfterTheCloseKeepsAnsweringClose()
    {
        var kinds = new List<WebSocketMessageKind>();
        using var session = new WsSession(r => r.AcceptWebSocket(async ws =>
        {
            for (int i = 0; i < 3; i++) kinds.Add((await ws.ReceiveAsync()).Kind);
        }));
        session.Feed(WsWire.Close(1000));
        session.Connection.FeedEnd();
        session.Settle();
        Assert.That(kinds, Is.EqualTo(Enumerable.Repeat(WebSocketMessageKind.Close, 3)));
    }

    [Test]
    public void AnIdleWebSocketHoldsNoBuffer()
    {
        using var session = new WsSession(r => r.AcceptWebSocket(WsSession.Echo));
        session.Feed(WsWire.Binary(new byte[20_000]));
        session.Frames();
        Assert.That(session.Harness.Context.Pool.InUse, Is.EqualTo(0));
    }

    [Test]
    public void SendAfterCloseIsRefused()
    {
        WebSocketConnection? socket = null;
        using var session = new WsSession(r => r.AcceptWebSocket((_, _) => { }, onOpen: ws => socket = ws));
        socket!.Close();
        Assert.That(socket.Send("late"), Is.False);
        Assert.That(socket.IsClosing, Is.True);
        Assert.That(session.Frames().Select(f => f.Opcode), Is.EqualTo(new[] { 8 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => socket.Close(1005));
        Assert.Throws<ArgumentException>(() => socket.Close(1000, new string('x', 124)));
        _ = Encoding.UTF8;
    }
}
