using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>Streamed responses (chunked transfer coding) over real sockets on 127.0.0.1, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class StreamingResponseTests(PollerKind poller)
{
    private const int BufferLimit = 16 * 1024; // MaxResponseBufferBytes for this fixture
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private RunningServer _server = null!;
    private CapturingLoggerFactory _logs = null!;
    private BlockingCollection<(StreamingResponse Response, CancellationToken RequestAborted)> _held = null!;
    private StreamingResponse _shared = null!;
    private Future _late = null!;
    private int _helloCount;

    private Route[] Routes() =>
    [
        ("^/hello$", (HttpRequest r) =>
        {
            Interlocked.Increment(ref _helloCount);
            return new HttpResponse("Hello", 200, "text/plain");
        }),
        // Written and completed before the handler returns: it all goes out with the head.
        ("^/stream/sync$", (HttpRequest r) =>
        {
            var response = new StreamingResponse(200, "text/plain; charset=utf-8");
            response.Write("hello");
            response.Write("");
            response.Write(", ");
            response.Write("wörld");
            response.Complete();
            return response;
        }),
        // Handed to the test, which writes and completes it from its own thread.
        ("^/stream/held$", (HttpRequest r) =>
        {
            var response = new StreamingResponse(200, "text/plain");
            response.Headers.Add("X-Stream", "held");
            _held.Add((response, r.Aborted));
            return response;
        }),
        ("^/stream/shared$", (HttpRequest r) => _shared),
        new Route("^/stream/late$", ReturnAfterTheLateFuture),
        // Every handler kind may return one; a thread-pool producer writes it.
        ("^/stream/plain/(?<n>[0-9]+)$", (HttpRequest r) => Produce(int.Parse(r.RouteValues["n"]))),
        ("^/stream/iterator/(?<n>[0-9]+)$", ProduceAfterAFuture),
        ("^/stream/valuetask/(?<n>[0-9]+)$", ProduceAsync),
        ("^/stream/task/(?<n>[0-9]+)$", (HttpRequest r) => Task.FromResult<HttpResponseBase>(Produce(int.Parse(r.RouteValues["n"])))),
    ];

    /// <summary>Returns a streamed response once the test completes <see cref="_late"/>.</summary>
    private async Task<HttpResponseBase> ReturnAfterTheLateFuture(HttpRequest r)
    {
        await _late;
        var response = new StreamingResponse();
        _held.Add((response, r.Aborted));
        return response;
    }

    private static IEnumerable<Step> ProduceAfterAFuture(HttpRequest r)
    {
        int lines = int.Parse(r.RouteValues["n"]);
        yield return new TimeoutFuture(0.01);
        yield return Produce(lines);
    }

    private static async ValueTask<HttpResponseBase> ProduceAsync(HttpRequest r)
    {
        int lines = int.Parse(r.RouteValues["n"]);
        await new TimeoutFuture(0.01);
        return Produce(lines);
    }

    /// <summary>A producer on the thread pool writing <paramref name="lines"/> lines, minding backpressure.</summary>
    private static StreamingResponse Produce(int lines)
    {
        var response = new StreamingResponse(200, "text/plain; charset=utf-8");
        _ = Task.Run(async () =>
        {
            for (int i = 0; i < lines; i++)
            {
                if (!response.Write($"line {i}\n")) return;
                if (!await response.WaitForDrainAsync()) return;
            }
            response.Complete();
        });
        return response;
    }

    private static string Lines(int count) => string.Concat(Enumerable.Range(0, count).Select(i => $"line {i}\n"));

    [SetUp]
    public void Start()
    {
        _held = new();
        _shared = new StreamingResponse(200, "text/plain");
        _late = new Future();
        _helloCount = 0;
        _logs = new CapturingLoggerFactory();
        _server = new RunningServer(Routes(), poller, options =>
        {
            options.MaxResponseBufferBytes = BufferLimit;
            options.LoggerFactory = _logs;
        });
    }

    [TearDown]
    public void Stop()
    {
        _server.Dispose();
        _held.Dispose();
    }

    private (StreamingResponse Response, CancellationToken RequestAborted) TakeHeld()
    {
        Assert.That(_held.TryTake(out var held, Bound), Is.True, "the /stream/held handler did not run");
        return held;
    }

    private static string Chunk(string data) => $"{Encoding.UTF8.GetByteCount(data):x}\r\n{data}\r\n";

    [Test]
    public void EachWriteBecomesOneChunkOnTheWire()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse head = client.ReadResponseHead();
        StreamingResponse response = TakeHeld().Response;
        Assert.Multiple(() =>
        {
            Assert.That(head.Status, Is.EqualTo(200));
            Assert.That(head.Header("Transfer-Encoding"), Is.EqualTo("chunked"));
            Assert.That(head.Header("Content-Length"), Is.Null);
            Assert.That(head.Header("Content-Type"), Is.EqualTo("text/plain"));
            Assert.That(head.Header("X-Stream"), Is.EqualTo("held"));
            Assert.That(head.Header("Connection"), Is.Null);
        });

        string big = new('x', 255);
        Assert.That(response.Write("hello"), Is.True);
        Assert.That(response.Write(""), Is.True, "an empty write sends nothing (an empty chunk would end the body)");
        Assert.That(response.Write(Encoding.ASCII.GetBytes(big)), Is.True);
        Assert.That(response.Write("wörld"), Is.True);
        Assert.That(response.Complete(), Is.True);

        string expected = Chunk("hello") + Chunk(big) + Chunk("wörld") + "0\r\n\r\n";
        Assert.That(expected, Does.Contain("ff\r\n").And.Contain("6\r\nwörld"), "sizes are hexadecimal byte counts");
        byte[] wire = client.ReadExactly(Encoding.UTF8.GetByteCount(expected));
        Assert.That(Encoding.UTF8.GetString(wire), Is.EqualTo(expected));

        // Nothing else was sent, and the connection goes on.
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("Hello"));
    }

    [Test]
    public void WritesMadeBeforeTheHandlerReturnsGoOutWithTheHead()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/sync HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse head = client.ReadResponseHead();
        Assert.That(head.Header("Transfer-Encoding"), Is.EqualTo("chunked"));
        string expected = Chunk("hello") + Chunk(", ") + Chunk("wörld") + "0\r\n\r\n";
        Assert.That(Encoding.UTF8.GetString(client.ReadExactly(Encoding.UTF8.GetByteCount(expected))), Is.EqualTo(expected));
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("Hello"));
    }

    [Test]
    public void ChunksWrittenFromAnotherThreadArriveOneByOneBeforeComplete()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponseHead();
        StreamingResponse response = TakeHeld().Response;

        // The producer writes the next tick only once the client has seen the previous one.
        using var seen = new SemaphoreSlim(0);
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                response.Write($"tick {i}");
                if (!seen.Wait(Bound)) return; // the client never saw it: give up, the test fails below
            }
            response.Complete();
        }) { IsBackground = true };
        producer.Start();

        for (int i = 0; i < 5; i++)
        {
            byte[]? chunk = client.ReadChunk();
            Assert.That(chunk, Is.Not.Null);
            Assert.That(Encoding.UTF8.GetString(chunk!), Is.EqualTo($"tick {i}"));
            Assert.That(response.IsCompleted, Is.False, "the chunk arrived while the response was still open");
            seen.Release();
        }
        Assert.That(client.ReadChunk(), Is.Null, "the last chunk follows Complete");
        Assert.That(producer.Join(Bound), Is.True);
    }

    [Test]
    public async Task HttpClientReadsWholeStreamedBodiesFromEveryHandlerKind()
    {
        using var client = new HttpClient();
        foreach (string kind in new[] { "plain", "iterator", "valuetask", "task" })
        {
            using var bounded = new CancellationTokenSource(Bound);
            using HttpResponseMessage response = await client.GetAsync(_server.Url($"/stream/{kind}/2000"), HttpCompletionOption.ResponseHeadersRead, bounded.Token);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), kind);
            Assert.That(response.Headers.TransferEncodingChunked, Is.True, kind);
            Assert.That(response.Content.Headers.ContentLength, Is.Null, kind);
            Assert.That(await response.Content.ReadAsStringAsync(bounded.Token), Is.EqualTo(Lines(2000)), kind);
        }
    }

    [Test]
    public void Http10GetsACloseDelimitedBodyAndAClose()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/plain/50 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        WireResponse response = client.ReadResponse(); // no length, no chunks: the body runs to the close
        Assert.Multiple(() =>
        {
            Assert.That(response.Version, Is.EqualTo("HTTP/1.1"));
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Header("Transfer-Encoding"), Is.Null, "HTTP/1.0 has no chunked coding");
            Assert.That(response.Header("Content-Length"), Is.Null);
            Assert.That(response.Closes, Is.True, "even though keep-alive was asked for");
            Assert.That(response.Text, Is.EqualTo(Lines(50)), "the bare bytes, no chunk framing");
        });
        Assert.That(RunningServer.Eventually(() => _server.App.ConnectionCount == 0), Is.True);
    }

    [Test]
    public void HeadGetsTheHeadAndNoBody()
    {
        using TestClient client = _server.Connect();
        client.Send("HEAD /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse head = client.ReadResponseHead();
        Assert.That(head.Status, Is.EqualTo(200));
        Assert.That(head.Header("Transfer-Encoding"), Is.EqualTo("chunked"), "the headers a GET would get");
        StreamingResponse response = TakeHeld().Response;
        Assert.That(response.Write("dropped"), Is.True, "writes to a HEAD response are dropped, not refused");
        Assert.That(response.Complete(), Is.True);
        // A body (or a last chunk) on the wire would be read here as the next response's status line.
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse next = client.ReadResponse();
        Assert.That(next.Status, Is.EqualTo(200));
        Assert.That(next.Text, Is.EqualTo("Hello"));
    }

    [Test]
    public void APipelinedRequestIsAnsweredAfterTheStreamedResponseBeforeIt()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponseHead();
        StreamingResponse response = TakeHeld().Response;
        response.Write("first");
        Assert.That(client.ReadChunk(), Is.EqualTo("first"u8.ToArray()));
        Assert.That(Volatile.Read(ref _helloCount), Is.Zero, "the pipelined request waits while the stream is open");
        response.Write("second");
        response.Complete();
        Assert.That(client.ReadChunk(), Is.EqualTo("second"u8.ToArray()));
        Assert.That(client.ReadChunk(), Is.Null);
        WireResponse next = client.ReadResponse();
        Assert.That(next.Text, Is.EqualTo("Hello"));
        Assert.That(_helloCount, Is.EqualTo(1));
    }

    [Test]
    public void AClientThatLeavesMidStreamAbortsTheResponseAndLeavesNoConnection()
    {
        var client = _server.Connect();
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponseHead();
        var (response, requestAborted) = TakeHeld();
        CancellationToken aborted = response.Aborted;
        response.Write("first");
        Assert.That(client.ReadChunk(), Is.EqualTo("first"u8.ToArray()));
        Assert.That(response.IsAborted, Is.False);
        client.Dispose();

        Assert.That(RunningServer.Eventually(() => response.IsAborted), Is.True, "IsAborted turns true");
        Assert.Multiple(() =>
        {
            Assert.That(aborted.IsCancellationRequested, Is.True, "Aborted is cancelled");
            Assert.That(requestAborted.IsCancellationRequested, Is.True, "and so is the request's");
            Assert.That(response.Write("more"), Is.False, "writes are dropped");
            Assert.That(response.WaitForDrainAsync().AsTask().Result, Is.False);
            Assert.That(response.Complete(), Is.False);
        });
        Assert.That(RunningServer.Eventually(() => _server.App.ConnectionCount == 0), Is.True,
            $"{_server.App.ConnectionCount} connection(s) left behind");
    }

    [Test]
    public void AStreamedResponseReturnedAfterTheClientLeftIsAborted()
    {
        var client = _server.Connect();
        client.Send("GET /stream/late HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 1), Is.True);
        client.Dispose();
        Assert.That(RunningServer.Eventually(() => _server.App.ConnectionCount == 0), Is.True);
        _late.SetResult();
        StreamingResponse response = TakeHeld().Response;
        Assert.That(RunningServer.Eventually(() => response.IsAborted), Is.True, "no one will ever read it");
        Assert.That(response.Write("lost"), Is.False);
    }

    [Test]
    public void WaitForDrainAsyncWaitsWhileTheClientDoesNotReadAndCompletesOnceItDoes()
    {
        using var client = new TestClient(_server.EndPoint, receiveBufferSize: 4096);
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        StreamingResponse response = TakeHeld().Response;

        // Write 16 KiB pieces as a well-behaved producer does, until the queue stays over the limit.
        byte[] piece = Enumerable.Repeat((byte)'z', BufferLimit).ToArray();
        int written = 0;
        Task<bool>? blocked = null;
        while (written < 4096) // 64 MiB: far more than the kernel's buffers take
        {
            Assert.That(response.Write(piece), Is.True);
            written++;
            Task<bool> drained = response.WaitForDrainAsync().AsTask();
            if (!drained.Wait(TimeSpan.FromSeconds(1)))
            {
                blocked = drained;
                break;
            }
        }
        Assert.That(blocked, Is.Not.Null, $"WaitForDrainAsync never waited ({written} pieces queued for a client that reads nothing)");
        Assert.That(blocked!.Wait(TimeSpan.FromMilliseconds(500)), Is.False, "it waits as long as the client does not read");
        Assert.That(response.IsAborted, Is.False);

        // The client reads now: the wait ends, and everything arrives.
        Task<long> reader = Task.Run(() =>
        {
            client.ReadResponseHead();
            long total = 0;
            while (client.ReadChunk() is byte[] chunk) total += chunk.Length;
            return total;
        });
        Assert.That(blocked.Wait(Bound), Is.True, "WaitForDrainAsync completes once the client catches up");
        Assert.That(blocked.Result, Is.True);
        response.Complete();
        Assert.That(reader.Wait(Bound), Is.True);
        Assert.That(reader.Result, Is.EqualTo((long)written * BufferLimit));
    }

    [Test]
    public void AProducerThatIgnoresBackpressureIsCutOffAtTheHardLimit()
    {
        using var client = new TestClient(_server.EndPoint, receiveBufferSize: 4096);
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        StreamingResponse response = TakeHeld().Response;

        byte[] piece = new byte[BufferLimit];
        int written = 0;
        while (written < 4096 && response.Write(piece)) written++; // never waits for the drain
        Assert.That(written, Is.LessThan(4096), "a write past the hard limit is refused");
        Assert.That(response.IsAborted, Is.True);
        Assert.That(RunningServer.Eventually(() => _server.App.ConnectionCount == 0), Is.True, "the connection is closed");
        Assert.That(_logs.Warnings, Has.Some.Contains("WaitForDrainAsync"), "with a log line that says why");
    }

    [Test]
    public void AStreamThatNeverCompletesIsAbortedWhenTheServerStops()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /stream/held HTTP/1.1\r\nHost: x\r\n\r\n");
        client.ReadResponseHead();
        StreamingResponse response = TakeHeld().Response;
        Assert.That(_server.App.ConnectionCount, Is.EqualTo(1), "an open stream keeps its connection");
        _server.App.Stop();
        Assert.That(response.IsAborted, Is.True);
        Assert.That(response.Aborted.IsCancellationRequested, Is.True);
        Assert.That(client.WaitForClose(), Is.True);
    }

    [Test]
    public void AResponseObjectAnswersOneRequestOnly()
    {
        using TestClient first = _server.Connect();
        first.Send("GET /stream/shared HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(first.ReadResponseHead().Header("Transfer-Encoding"), Is.EqualTo("chunked"));
        using TestClient second = _server.Connect();
        second.Send("GET /stream/shared HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(second.ReadResponse().Status, Is.EqualTo(500));
        _shared.Write("only the first");
        _shared.Complete();
        Assert.That(first.ReadChunk(), Is.EqualTo("only the first"u8.ToArray()));
        Assert.That(first.ReadChunk(), Is.Null);
    }

    /// <summary>Collects the server's warnings.</summary>
    private sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<string> Warnings { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Warnings.Enqueue(formatter(state, exception));
        }
    }
}

/// <summary>The parts of <see cref="StreamingResponse"/> that need no server.</summary>
public sealed class StreamingResponseApiTests
{
    [Test]
    public void FramingHeadersCannotBeSetByHand()
    {
        var response = new StreamingResponse();
        Assert.Throws<ArgumentException>(() => response.Headers.Add("Transfer-Encoding", "chunked"));
        Assert.Throws<ArgumentException>(() => response.Headers.Add("Content-Length", "5"));
        Assert.Throws<ArgumentException>(() => response.Headers["content-length"] = "5");
    }

    [Test]
    public void CompleteOnceThenNoMoreWrites()
    {
        var response = new StreamingResponse();
        Assert.That(response.Write("before the server has it"), Is.True);
        Assert.That(response.WaitForDrainAsync().IsCompletedSuccessfully, Is.True, "a little queued: no wait");
        Assert.That(response.Complete(), Is.True);
        Assert.That(response.Complete(), Is.False);
        Assert.That(response.IsCompleted, Is.True);
        Assert.Throws<InvalidOperationException>(() => response.Write("after"));
    }
}
