using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>The Snow API end to end: the seed's examples, the handler kinds, futures, routing, cookies.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class SnowApiTests(PollerKind poller)
{
    private readonly ConcurrentQueue<Future> _waiting = new();
    private RunningServer _server = null!;
    private int _asyncThread;

    private Route[] Routes() =>
    [
        // The original Snow's examples.
        ("^/index/$", (HttpRequest r) => new HttpResponse("OK")),
        ("^/home/$", (HttpRequest r) => new HttpResponse("home")),
        ("^/async/$", Async),
        ("^/req/$", Req),
        ("^/stop/$", Stop),
        // The other handler kinds and API surface.
        ("^/vt/(?<ms>[0-9]+)$", AsyncValueTask),
        ("^/task$", AsyncTask),
        ("^/await-future$", AwaitFuture),
        ("^/resume$", Resume),
        ("^/request$", Describe),
        ("^/cookie$", SetCookies),
        new Route("^/only-post$", (HttpRequest r) => new HttpResponse("posted"), "POST"),
        ("^/users/(?<id>[0-9]+)/posts/(?<post>[a-z]+)$", (HttpRequest r) => new HttpResponse($"{r.RouteValues["id"]}:{r.RouteValues["post"]}")),
    ];

    private static IEnumerable<Step> Async(HttpRequest request)
    {
        yield return new TimeoutFuture(0.3);
        yield return new HttpResponse("async");
    }

    private IEnumerable<Step> Req(HttpRequest request)
    {
        var future = new Future((r, f) => new HttpResponse(f.GetResult<string>() ?? ""));
        _waiting.Enqueue(future);
        yield return future;
    }

    private HttpResponse Stop(HttpRequest request)
    {
        int count = int.TryParse(request.Query["all"], out int all) ? all : 1;
        int released = 0;
        while (released < count && _waiting.TryDequeue(out Future? future))
        {
            if (!future.IsAbandoned && future.SetResult("done")) released++;
        }
        return new HttpResponse("stop " + released);
    }

    private async ValueTask<HttpResponse> AsyncValueTask(HttpRequest request)
    {
        int before = Environment.CurrentManagedThreadId;
        await Task.Delay(int.Parse(request.RouteValues["ms"]));
        _asyncThread = Environment.CurrentManagedThreadId;
        return new HttpResponse(before == _asyncThread ? "same-thread" : "other-thread");
    }

    private static async Task<HttpResponse> AsyncTask(HttpRequest request)
    {
        string result = await Task.Run(() => "from the pool");
        return new HttpResponse(result);
    }

    private async ValueTask<HttpResponse> AwaitFuture(HttpRequest request)
    {
        var future = new Future();
        _waiting.Enqueue(future);
        object? value = await future;
        return new HttpResponse("awaited " + value);
    }

    private static IEnumerable<Step> Resume(HttpRequest request)
    {
        var first = new TimeoutFuture(0.05);
        yield return first;
        var second = new TimeoutFuture(TimeSpan.FromMilliseconds(50));
        yield return second;
        yield return new HttpResponse($"resumed twice {first.IsReady && second.IsReady}");
    }

    private static HttpResponse Describe(HttpRequest r)
    {
        var text = new StringBuilder();
        text.AppendLine($"method={r.Method}");
        text.AppendLine($"url={r.Url}");
        text.AppendLine($"path={r.Path}");
        text.AppendLine($"protocol={r.Protocol}");
        text.AppendLine($"q={string.Join("|", r.Query.GetValues("q"))}");
        text.AppendLine($"x={string.Join("|", r.Headers.GetValues("X-Multi"))}");
        text.AppendLine($"host={r.Headers["HOST"]}");
        text.AppendLine($"cookie={r.Cookies.GetValueOrDefault("session")}");
        text.AppendLine($"body={r.BodyText}");
        return new HttpResponse(text.ToString(), 200, "text/plain; charset=utf-8");
    }

    private static HttpResponse SetCookies(HttpRequest r)
    {
        var response = new HttpResponse("cookies");
        ResponseCookie session = response.SetCookie("session", "abc123");
        session.Path = "/";
        session.HttpOnly = true;
        session.Secure = true;
        session.SameSite = SameSiteMode.Strict;
        session.MaxAge = TimeSpan.FromMinutes(1);
        ResponseCookie other = response.SetCookie("theme", "dark");
        other.Domain = "example.com";
        other.Expires = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        return response;
    }

    [SetUp]
    public void Start()
    {
        _waiting.Clear();
        _server = new RunningServer(Routes(), poller, loops: 2);
    }

    [TearDown]
    public void StopServer() => _server.Dispose();

    private WireResponse Get(string path, TestClient? client = null)
    {
        using TestClient own = client is null ? _server.Connect() : null!;
        TestClient c = client ?? own;
        c.Send($"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        return c.ReadResponse();
    }

    [Test]
    public void SeedIndexAndHome()
    {
        Assert.That(Get("/index/").Text, Is.EqualTo("OK"));
        Assert.That(Get("/home/").Text, Is.EqualTo("home"));
        WireResponse missing = Get("/index");
        Assert.That(missing.Status, Is.EqualTo(404), "'^/index/$' needs the trailing slash");
    }

    [Test]
    public void SeedRoutesAnswerAnyMethodAndIgnoreABody()
    {
        using TestClient client = _server.Connect();
        client.Send("POST /index/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("OK"));
        client.Send("DELETE /home/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("home"));
    }

    [Test]
    public void SeedAsyncAnswersAfterItsTimeoutWhileHomeAnswersAtOnce()
    {
        using TestClient parked = _server.Connect();
        var watch = Stopwatch.StartNew();
        parked.Send("GET /async/ HTTP/1.1\r\nHost: x\r\n\r\n");
        // While /async/ waits, /home/ is served: both on a 1-loop and on a 2-loop server.
        for (int i = 0; i < 5; i++) Assert.That(Get("/home/").Text, Is.EqualTo("home"));
        Assert.That(parked.IsSilentFor(TimeSpan.FromMilliseconds(50)) || watch.ElapsedMilliseconds >= 300, Is.True);
        WireResponse response = parked.ReadResponse();
        Assert.That(response.Text, Is.EqualTo("async"));
        Assert.That(watch.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(300), "the TimeoutFuture waits its time");
    }

    [Test]
    public void SeedLongPollReqIsReleasedByStop()
    {
        using TestClient first = _server.Connect();
        using TestClient second = _server.Connect();
        first.Send("GET /req/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 1), Is.True);
        second.Send("GET /req/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 2), Is.True);
        Assert.That(first.IsSilentFor(TimeSpan.FromMilliseconds(100)), Is.True, "a parked request gets no answer yet");

        Assert.That(Get("/stop/").Text, Is.EqualTo("stop 1"));
        Assert.That(first.ReadResponse().Text, Is.EqualTo("done"), "the oldest /req/ is released first");
        Assert.That(second.IsSilentFor(TimeSpan.FromMilliseconds(100)), Is.True);
        Assert.That(Get("/stop/").Text, Is.EqualTo("stop 1"));
        Assert.That(second.ReadResponse().Text, Is.EqualTo("done"));
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 0), Is.True);
        // The released connections are keep-alive connections again.
        Assert.That(Get("/index/", first).Text, Is.EqualTo("OK"));
    }

    [Test]
    public void AParkedClientThatDisconnectsLeavesNothingBehind()
    {
        var client = _server.Connect();
        client.Send("GET /req/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 1), Is.True);
        Assert.That(_waiting.TryPeek(out Future? future), Is.True);
        client.Dispose();
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 0 && _server.App.ConnectionCount == 0), Is.True,
            "the parked request and its connection are gone at once");
        Assert.That(future!.IsAbandoned, Is.True, "the future sees that nobody waits on it any more");
        Assert.That(Get("/stop/").Text, Is.EqualTo("stop 0"), "an abandoned future is skipped");
    }

    [Test]
    public void AsyncHandlersResumeOnTheirLoopThread()
    {
        WireResponse response = Get("/vt/20");
        Assert.That(response.Text, Is.EqualTo("same-thread"));
        Assert.That(Get("/task").Text, Is.EqualTo("from the pool"));
    }

    [Test]
    public void AnAsyncHandlerCanAwaitAFutureCompletedFromAnotherThread()
    {
        using TestClient client = _server.Connect();
        client.Send("GET /await-future HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => !_waiting.IsEmpty), Is.True);
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 1), Is.True);
        _waiting.TryDequeue(out Future? future);
        new Thread(() => future!.SetResult(42)).Start();
        Assert.That(client.ReadResponse().Text, Is.EqualTo("awaited 42"));
    }

    [Test]
    public void AnIteratorWithoutCallbackResumesAfterEachFuture()
    {
        Assert.That(Get("/resume").Text, Is.EqualTo("resumed twice True"));
    }

    [Test]
    public void RequestExposesMethodUrlPathQueryHeadersCookiesAndBody()
    {
        using TestClient client = _server.Connect();
        client.Send("PUT /re%71uest?q=a+b&q=%C3%A9 HTTP/1.1\r\nHost: localhost\r\nX-Multi: 1\r\nX-Multi: 2\r\n" +
                    "Cookie: session=s1; other=o\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\nh\u00c3\u00a9llo");
        string[] lines = client.ReadResponse().Text.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain("method=PUT"));
            Assert.That(lines, Does.Contain("url=/re%71uest?q=a+b&q=%C3%A9"));
            Assert.That(lines, Does.Contain("path=/request"));
            Assert.That(lines, Does.Contain("protocol=HTTP/1.1"));
            Assert.That(lines, Does.Contain("q=a b|é"));
            Assert.That(lines, Does.Contain("x=1|2"));
            Assert.That(lines, Does.Contain("host=localhost"));
            Assert.That(lines, Does.Contain("cookie=s1"));
            Assert.That(lines, Does.Contain("body=héllo"));
        });
    }

    [Test]
    public void NamedGroupsBecomeRouteValues()
    {
        Assert.That(Get("/users/42/posts/snow").Text, Is.EqualTo("42:snow"));
        Assert.That(Get("/users/x/posts/snow").Status, Is.EqualTo(404));
    }

    [Test]
    public void MethodFiltersAnswer405WithAllow()
    {
        WireResponse response = Get("/only-post");
        Assert.That(response.Status, Is.EqualTo(405));
        Assert.That(response.Header("Allow"), Is.EqualTo("POST"));
        using TestClient client = _server.Connect();
        client.Send("POST /only-post HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("posted"));
    }

    [Test]
    public void CookiesAreSentWithTheirAttributes()
    {
        string[] cookies = Get("/cookie").HeaderValues("Set-Cookie").ToArray();
        Assert.That(cookies, Is.EqualTo(new[]
        {
            "session=abc123; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Strict",
            "theme=dark; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT",
        }));
    }
}
