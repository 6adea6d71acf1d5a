using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.ServerSentEvents;

/// <summary>Server-sent events over the in-memory transport: the wire format, Last-Event-ID, the heartbeat, threads, back-pressure.</summary>
public sealed class ServerSentEventsTests
{
    private static (ProtocolHarness Harness, InMemoryTransport Connection) Open(Func<HttpRequest, HttpResponseBase> handler, string headers = "")
    {
        var harness = new ProtocolHarness([("^/events$", handler)]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes($"GET /events HTTP/1.1\r\nHost: x\r\n{headers}\r\n"));
        return (harness, connection);
    }

    /// <summary>The body so far: the chunks' data, joined.</summary>
    private static string Body(string sent)
    {
        int at = sent.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var body = new System.Text.StringBuilder();
        while (at < sent.Length)
        {
            int lineEnd = sent.IndexOf("\r\n", at, StringComparison.Ordinal);
            int size = Convert.ToInt32(sent[at..lineEnd], 16);
            body.Append(sent, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return body.ToString();
    }

    [Test]
    public void TheHeadSaysEventStreamAndEventsCarryTheirFields()
    {
        Snow.Native.ServerSentEvents? events = null;
        var (harness, connection) = Open(r => (events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero)).Response);
        using (harness)
        {
            events!.Send("plain");
            events.Send("line one\nline two\r\nline three\rfour", eventName: "update", id: "7", retry: TimeSpan.FromSeconds(3));
            events.Send("ends with a break\n");
            events.Send("");
            harness.RunPending();
            string sent = Wire.Text(connection.TakeSent());
            Assert.That(sent, Does.StartWith("HTTP/1.1 200 OK\r\n"));
            Assert.That(sent, Does.Contain("Content-Type: text/event-stream; charset=utf-8\r\n"));
            Assert.That(sent, Does.Contain("Cache-Control: no-cache\r\n"));
            Assert.That(sent, Does.Contain("Transfer-Encoding: chunked\r\n"));
            Assert.That(Body(sent), Is.EqualTo(
                "data: plain\n\n" +
                "event: update\nid: 7\nretry: 3000\ndata: line one\ndata: line two\ndata: line three\ndata: four\n\n" +
                "data: ends with a break\ndata: \n\n" +
                "data: \n\n"));
        }
    }

    [Test]
    public void FieldsWithLineBreaksAreRefused()
    {
        Snow.Native.ServerSentEvents? events = null;
        var (harness, _) = Open(r => (events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero)).Response);
        using var _ = harness;
        Assert.Throws<ArgumentException>(() => events!.Send("x", eventName: "a\nb"));
        Assert.Throws<ArgumentException>(() => events!.Send("x", id: "1\r"));
        Assert.Throws<ArgumentException>(() => events!.Send("x", id: "1\0"));
        Assert.Throws<ArgumentException>(() => events!.SendComment("a\nb"));
    }

    [Test]
    public void LastEventIdIsReadFromTheReconnectingRequest()
    {
        string? seen = "unset";
        var (harness, _) = Open(r =>
        {
            var events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero);
            seen = events.LastEventId;
            return events.Response;
        }, "Last-Event-ID: 41\r\n");
        harness.Dispose();
        Assert.That(seen, Is.EqualTo("41"));
    }

    [Test]
    public void TheHeartbeatSendsACommentAtEachInterval()
    {
        var time = new ManualTime();
        Snow.Native.ServerSentEvents? events = null;
        var (harness, connection) = Open(r => (events = new Snow.Native.ServerSentEvents(r, TimeSpan.FromSeconds(15), time)).Response);
        using (harness)
        {
            connection.TakeSent();
            time.Fire();
            time.Fire();
            harness.RunPending();
            Assert.That(Body("\r\n\r\n" + Wire.Text(connection.TakeSent())), Is.EqualTo(":\n\n:\n\n"));
            Assert.That(time.Period, Is.EqualTo(TimeSpan.FromSeconds(15)));
            events!.Complete();
            Assert.That(time.Disposed, Is.True, "the heartbeat stops with the stream");
        }
    }

    [Test]
    public void EventsFromOtherThreadsArriveWhole()
    {
        Snow.Native.ServerSentEvents? events = null;
        var (harness, connection) = Open(r => (events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero)).Response);
        using (harness)
        {
            Task.WaitAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (int i = 0; i < 100; i++) events!.Send($"{t}:{i}\nsecond line");
            })).ToArray());
            harness.RunPending();
            string body = Body(Wire.Text(connection.TakeSent()));
            string[] blocks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.That(blocks, Has.Length.EqualTo(400));
            Assert.That(blocks.All(b => b.EndsWith("\ndata: second line")), Is.True);
        }
    }

    [Test]
    public void SendAsyncWaitsWhileTheClientIsBehindAndFalseOnceItLeft()
    {
        Snow.Native.ServerSentEvents? events = null;
        var (harness, connection) = Open(r => (events = new Snow.Native.ServerSentEvents(r, TimeSpan.Zero)).Response, "");
        using (harness)
        {
            connection.PeerAcceptsOutput = false;
            string big = new('x', 40_000);
            ValueTask<bool> wait = default;
            for (int i = 0; i < 10; i++)
            {
                wait = events!.SendAsync(big);
                harness.RunPending();
                if (!wait.IsCompleted) break;
            }
            Assert.That(wait.IsCompleted, Is.False, "waits once MaxResponseBufferBytes are queued");
            connection.PeerAcceptsOutput = true;
            connection.TakeSent();
            Assert.That(harness.RunUntil(() => wait.IsCompleted), Is.True);
            Assert.That(wait.Result, Is.True);
            connection.FeedEnd();
            Assert.That(events!.IsAborted, Is.True);
            Assert.That(events.Send("gone"), Is.False);
        }
    }

    /// <summary>A clock whose one timer fires when the test says.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public TimeSpan Period { get; private set; }

        public bool Disposed { get; private set; }

        public void Fire() => _callback!(_state);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callback = callback;
            _state = state;
            Period = period;
            return new Timer(this);
        }

        private sealed class Timer(ManualTime owner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => owner.Disposed = true;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
