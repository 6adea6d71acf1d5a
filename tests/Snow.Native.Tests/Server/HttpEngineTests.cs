using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>The HTTP/1.1 engine over real sockets on 127.0.0.1, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class HttpEngineTests(PollerKind poller)
{
    private RunningServer _server = null!;
    private readonly List<string> _handled = new();

    private Route[] Routes() =>
    [
        ("^/hello$", (HttpRequest r) => new HttpResponse("Hello, World!", 200, "text/plain")),
        ("^/echo$", (HttpRequest r) =>
        {
            lock (_handled) _handled.Add(r.Method + " " + r.Url);
            var response = new HttpResponse(r.Body, 200, "application/octet-stream");
            response.Headers.Add("X-Method", r.Method);
            response.Headers.Add("X-Path", r.Path);
            response.Headers.Add("X-Protocol", r.Protocol);
            return response;
        }),
        ("^/n/(?<n>[0-9]+)$", (HttpRequest r) => new HttpResponse("n=" + r.RouteValues["n"])),
        ("^/throw$", Throw),
        ("^/big$", (HttpRequest r) => new HttpResponse(new byte[256 * 1024])),
        ("^/nocontent$", (HttpRequest r) => new HttpResponse("", 204)),
    ];

    private static HttpResponse Throw(HttpRequest request) => throw new InvalidOperationException("handler failure on purpose");

    [SetUp]
    public void Start()
    {
        _handled.Clear();
        _server = new RunningServer(Routes(), poller, options =>
        {
            options.RequestHeadersTimeout = TimeSpan.FromSeconds(2);
            options.RequestBodyIdleTimeout = TimeSpan.FromSeconds(2);
            options.KeepAliveTimeout = TimeSpan.FromSeconds(3);
            options.Limits.MaxRequestBodyBytes = 1_000_000;
        });
    }

    [TearDown]
    public void Stop() => _server.Dispose();

    [Test]
    public void AnswersWithStatusLineDateContentLengthAndBody()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.Multiple(() =>
        {
            Assert.That(response.Version, Is.EqualTo("HTTP/1.1"));
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Reason, Is.EqualTo("OK"));
            Assert.That(response.Text, Is.EqualTo("Hello, World!"));
            Assert.That(response.Header("Content-Length"), Is.EqualTo("13"));
            Assert.That(response.Header("Content-Type"), Is.EqualTo("text/plain"));
            Assert.That(DateTime.TryParse(response.Header("Date"), out _), Is.True, "a Date header in RFC 1123 form");
            Assert.That(response.Header("Connection"), Is.Null, "HTTP/1.1 keeps alive without saying so");
        });
    }

    [Test]
    public void KeepAliveServesManyRequestsOnOneConnection()
    {
        using TestClient client = _server.Connect();
        for (int i = 0; i < 50; i++)
        {
            client.Send($"GET /n/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo($"n={i}"));
        }
        Assert.That(_server.App.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public void HundredPipelinedRequestsInOneSendAreAnsweredInOrder()
    {
        using TestClient client = _server.Connect();
        var batch = new StringBuilder();
        for (int i = 0; i < 100; i++) batch.Append($"GET /n/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        client.Send(batch.ToString());
        for (int i = 0; i < 100; i++)
        {
            WireResponse response = client.ReadResponse();
            Assert.That(response.Text, Is.EqualTo($"n={i}"), $"response {i} out of order or missing");
        }
    }

    [Test]
    public void ARequestSentOneByteAtATimeIsAnswered()
    {
        using TestClient client = _server.Connect();
        byte[] request = Encoding.ASCII.GetBytes("POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        foreach (byte b in request)
        {
            client.Send([b]);
            Thread.Sleep(1);
        }
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Text, Is.EqualTo("hello"));
        Assert.That(response.Header("X-Path"), Is.EqualTo("/echo"));
    }

    [Test]
    public void ChunkedBodiesAreDecodedWithExtensionsAndTrailers()
    {
        using TestClient client = _server.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                    "5;name=value\r\nhello\r\n" + "7\r\n, world\r\n" + "0\r\nX-Trailer: t\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Text, Is.EqualTo("hello, world"));
        // and the connection is still good for the next request
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void AChunkedBodyTrickledByteByByteIsDecoded()
    {
        using TestClient client = _server.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        foreach (byte b in Encoding.ASCII.GetBytes("3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"))
        {
            client.Send([b]);
        }
        Assert.That(client.ReadResponse().Text, Is.EqualTo("abc0123456789abcdef"));
    }

    [Test]
    public void PercentEncodedPathsAreDecodedBeforeRouting()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /%65cho HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Header("X-Path"), Is.EqualTo("/echo"));
    }

    [Test]
    public void AnEncodedNewlineInThePathGets400RatherThanMatchingAnAnchoredRoute()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /hello%0A HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(400));
    }

    [Test]
    public void UnknownPathsGet404AndTheConnectionStaysUsable()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(404));
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void AThrowingHandlerGets500AndTheServerGoesOn()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(500));
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
        using TestClient other = _server.Connect();
        other.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(other.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public void HeadGetsHeadersWithTheLengthButNoBody()
    {
        using TestClient client = _server.Connect();
        client.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse head = client.ReadResponse(headRequest: true);
        Assert.That(head.Status, Is.EqualTo(200));
        Assert.That(head.Header("Content-Length"), Is.EqualTo("13"));
        // If a body had been sent, this next response would be misread.
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("Hello, World!"));
    }

    [Test]
    public void NoContentResponsesCarryNoContentLength()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(204));
        Assert.That(response.Header("Content-Length"), Is.Null);
    }

    [Test]
    public void Http10ClosesUnlessKeepAliveIsAsked()
    {
        using (TestClient client = _server.Connect())
        {
            client.Send("GET /hello HTTP/1.0\r\n\r\n");
            WireResponse response = client.ReadResponse();
            Assert.That(response.Status, Is.EqualTo(200));
            Assert.That(response.Closes, Is.True);
            Assert.That(client.WaitForClose(), Is.True);
        }
        using (TestClient client = _server.Connect())
        {
            client.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            WireResponse response = client.ReadResponse();
            Assert.That(response.Header("Connection"), Is.EqualTo("keep-alive"));
            client.Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
        }
    }

    [Test]
    public void ConnectionCloseIsHonoured()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Closes, Is.True);
        Assert.That(client.WaitForClose(), Is.True);
    }

    [Test]
    public void ExpectContinueGets100BeforeTheBody()
    {
        using TestClient client = _server.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        WireResponse interim = client.ReadResponse();
        Assert.That(interim.Status, Is.EqualTo(100));
        client.Send("ping");
        WireResponse final = client.ReadResponse();
        Assert.That(final.Status, Is.EqualTo(200));
        Assert.That(final.Text, Is.EqualTo("ping"));
    }

    // Rejections: each answered with the right status, then the connection closes.
    [TestCase("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, TestName = "{m}(ContentLengthWithTransferEncoding)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, TestName = "{m}(DuplicateContentLength)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400, TestName = "{m}(SignedContentLength)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1,1\r\n\r\nh", 400, TestName = "{m}(ListContentLength)")]
    [TestCase("GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", 400, TestName = "{m}(WhitespaceBeforeColon)")]
    [TestCase("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n", 400, TestName = "{m}(ObsFold)")]
    [TestCase("GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n", 400, TestName = "{m}(ControlCharacterInValue)")]
    [TestCase("GET /hello HTTP/1.1\nHost: x\n\n", 400, TestName = "{m}(BareLineFeeds)")]
    [TestCase("GET /hello HTTP/1.1\r\n\r\n", 400, TestName = "{m}(MissingHost)")]
    [TestCase("GET /hel lo HTTP/1.1\r\nHost: x\r\n\r\n", 400, TestName = "{m}(SpaceInTarget)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, TestName = "{m}(BadChunkSize)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, TestName = "{m}(UnknownTransferCoding)")]
    [TestCase("GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505, TestName = "{m}(Http2Version)")]
    [TestCase("GET /hello HTTP/1.2\r\nHost: x\r\n\r\n", 505, TestName = "{m}(Http12Version)")]
    [TestCase("POST /echo HTTP/1.0\r\n\r\n", 411, TestName = "{m}(Http10PostWithoutLength)")]
    [TestCase("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413, TestName = "{m}(BodyOverLimit)")]
    public void MalformedOrRefusedRequestsAreRejectedAndClosed(string request, int status)
    {
        using TestClient client = _server.Connect();
        client.Send(request);
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(status), response.Text);
        Assert.That(response.Closes, Is.True, "a rejected request closes the connection");
        Assert.That(client.WaitForClose(), Is.True);
        lock (_handled) Assert.That(_handled, Is.Empty, "no handler runs for a rejected request");
    }

    [Test]
    public void ARequestLineOverTheLimitGets414()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /" + new string('a', 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(414));
        Assert.That(client.WaitForClose(), Is.True);
    }

    [Test]
    public void HeadersOverTheSizeLimitGet431()
    {
        using TestClient client = _server.Connect();
        var request = new StringBuilder("GET /hello HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 40; i++) request.Append($"X-Filler-{i}: {new string('v', 1000)}\r\n");
        request.Append("\r\n");
        try
        {
            client.Send(request.ToString());
        }
        catch (SocketException)
        {
            // the server may stop reading once it has refused: the answer is what matters
        }
        Assert.That(client.ReadResponse().Status, Is.EqualTo(431));
    }

    [Test]
    public void MoreThanAHundredHeadersGet431()
    {
        using TestClient client = _server.Connect();
        var request = new StringBuilder("GET /hello HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 101; i++) request.Append($"X-H{i}: v\r\n");
        request.Append("\r\n");
        client.Send(request.ToString());
        Assert.That(client.ReadResponse().Status, Is.EqualTo(431));
    }

    [Test]
    public void AChunkedBodyOverTheLimitGets413()
    {
        using TestClient client = _server.Connect();
        client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        string chunk = new('z', 64 * 1024);
        try
        {
            for (int i = 0; i < 20; i++) client.Send($"{chunk.Length:x}\r\n{chunk}\r\n");
        }
        catch (SocketException)
        {
            // refused mid-body
        }
        Assert.That(client.ReadResponse().Status, Is.EqualTo(413));
    }

    [Test]
    public void IdleKeepAliveConnectionsHoldNoBuffer()
    {
        // Default timeouts: the connections stay open (idle) for the whole test.
        using var server = new RunningServer(Routes(), poller);
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                TestClient client = server.Connect();
                clients.Add(client);
                client.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
            }
            Assert.That(server.App.ConnectionCount, Is.EqualTo(50));
            Assert.That(RunningServer.Eventually(() => server.App.BuffersInUse == 0), Is.True,
                $"{server.App.BuffersInUse} buffers still held by 50 idle keep-alive connections");
            Assert.That(server.App.ConnectionCount, Is.EqualTo(50), "the connections were still open when checked");
        }
        finally
        {
            foreach (TestClient client in clients) client.Dispose();
        }
    }

    [Test]
    public void ASlowlorisClientDoesNotDelayOthers()
    {
        using TestClient slow = _server.Connect();
        slow.Send("GET /hello HTTP/1.1\r\n");
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++)
        {
            slow.Send("X-Slow: 1\r\n");
            using TestClient other = _server.Connect();
            other.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(other.ReadResponse().Status, Is.EqualTo(200));
        }
        // All twenty were answered while the slow client had not finished its headers.
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "others must not wait for the slow client's timeout");
    }

    [Test]
    public void AClientThatNeverReadsDoesNotGrowServerMemoryWithoutBound()
    {
        // Small kernel buffers on the client, so that backpressure shows within a few megabytes.
        using var greedy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveBufferSize = 4096,
            SendBufferSize = 4096,
            SendTimeout = 2000,
        };
        greedy.Connect(_server.EndPoint);
        // Each request asks for a 256 KiB response; none is ever read. A server without backpressure would read
        // them all and queue 256 KiB for each: over 20 GB for 64 MiB of requests.
        byte[] request = Encoding.ASCII.GetBytes("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        var batch = new byte[request.Length * 256];
        for (int i = 0; i < 256; i++) request.CopyTo(batch, i * request.Length);
        long sent = 0;
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        bool blocked = false;
        try
        {
            while (sent < 64L * 1024 * 1024)
            {
                sent += greedy.Send(batch);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            blocked = true; // the server stopped reading and the kernel buffers filled up
        }
        Assert.That(blocked, Is.True, $"the server kept reading from a client that never reads ({sent} bytes taken)");
        long growth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        Assert.That(growth, Is.LessThan(16L * 1024 * 1024), "the server's memory for a non-reading client must stay bounded");
        using TestClient other = _server.Connect();
        other.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(other.ReadResponse().Status, Is.EqualTo(200), "everyone else is still served");
    }

    [Test]
    public void ClientResetsAtEveryStageLeaveTheServerHealthy()
    {
        string[] partials =
        [
            "",
            "GET /hel",
            "GET /hello HTTP/1.1\r\nHost: x\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            "GET /big HTTP/1.1\r\nHost: x\r\n\r\n",
        ];
        foreach (string partial in partials)
        {
            var client = _server.Connect();
            if (partial.Length > 0) client.Send(partial);
            client.Socket.LingerState = new LingerOption(true, 0); // close with RST
            client.Dispose();
        }
        Assert.That(RunningServer.Eventually(() => _server.App.ConnectionCount == 0), Is.True,
            $"every reset connection should be gone; {_server.App.ConnectionCount} remain");
        using TestClient healthy = _server.Connect();
        healthy.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(healthy.ReadResponse().Status, Is.EqualTo(200));
    }

    [Test]
    public async Task HttpClientGetsRightAnswers()
    {
        using var client = new HttpClient();
        string hello = await client.GetStringAsync(_server.Url("/hello"));
        Assert.That(hello, Is.EqualTo("Hello, World!"));
        using var post = await client.PostAsync(_server.Url("/echo?a=b"), new StringContent("payload"));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await post.Content.ReadAsStringAsync(), Is.EqualTo("payload"));
        using var missing = await client.GetAsync(_server.Url("/missing"));
        Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        var tasks = Enumerable.Range(0, 50).Select(i => client.GetStringAsync(_server.Url($"/n/{i}"))).ToArray();
        string[] answers = await Task.WhenAll(tasks);
        Assert.That(answers, Is.EqualTo(Enumerable.Range(0, 50).Select(i => $"n={i}")));
    }
}
