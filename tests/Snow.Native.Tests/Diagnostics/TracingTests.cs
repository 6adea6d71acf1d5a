using System.Collections.Concurrent;
using System.Diagnostics;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Diagnostics;

/// <summary>A request's activity over real sockets: created only while listened to, parented by traceparent/tracestate, tagged like the metrics.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class TracingTests(PollerKind poller)
{
    private const string UserRoute = "^/users/(?<id>[0-9]+)$";
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string ParentSpanId = "b7ad6b7169203331";

    private static readonly ActivitySource HandlerSource = new("Snow.Native.Tests.Handler");

    private readonly ConcurrentQueue<(string Where, string? Id)> _seen = new();

    [SetUp]
    public void ForgetSeen() => _seen.Clear(); // the fixture object serves all its tests

    private Route[] Routes() =>
    [
        new Route(UserRoute, (HttpRequest r) =>
        {
            _seen.Enqueue(("plain", Activity.Current?.Id));
            using Activity? child = HandlerSource.StartActivity("load user");
            _seen.Enqueue(("child-parent", child?.ParentId));
            return new HttpResponse("user");
        }),
        new Route("^/async$", Async),
        new Route("^/iterator$", Iterator),
        new Route("^/fail$", Fail),
    ];

    private static HttpResponse Fail(HttpRequest request) => throw new InvalidOperationException("handler failure (expected by the test)");

    private async Task<HttpResponse> Async(HttpRequest request)
    {
        _seen.Enqueue(("before await", Activity.Current?.Id));
        await Task.Delay(10);
        _seen.Enqueue(("after await", Activity.Current?.Id));
        return new HttpResponse("async");
    }

    private IEnumerable<Step> Iterator(HttpRequest request)
    {
        _seen.Enqueue(("before park", Activity.Current?.Id));
        yield return new TimeoutFuture(0.01);
        _seen.Enqueue(("after park", Activity.Current?.Id));
        yield return new HttpResponse("iterator");
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is SnowDiagnostics.ActivitySourceName or "Snow.Native.Tests.Handler",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => stopped.Enqueue(activity),
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static Activity Single(ConcurrentQueue<Activity> stopped) =>
        stopped.Single(a => a.Source.Name == SnowDiagnostics.ActivitySourceName);

    [Test]
    public void ARequestWithTraceparentContinuesThatTrace()
    {
        using var server = new RunningServer(Routes(), poller);
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        using (TestClient client = server.Connect())
        {
            client.Send($"GET /users/7?full=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: tests\r\ntraceparent: 00-{TraceId}-{ParentSpanId}-01\r\ntracestate: congo=t61rcWkgMzE\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
        }
        Activity activity = Single(stopped);
        Assert.That(activity.OperationName, Is.EqualTo(SnowDiagnostics.RequestActivityName));
        Assert.That(activity.DisplayName, Is.EqualTo($"GET {UserRoute}"));
        Assert.That(activity.Kind, Is.EqualTo(ActivityKind.Server));
        Assert.That(activity.TraceId.ToHexString(), Is.EqualTo(TraceId));
        Assert.That(activity.ParentSpanId.ToHexString(), Is.EqualTo(ParentSpanId));
        Assert.That(activity.HasRemoteParent, Is.True);
        Assert.That(activity.TraceStateString, Is.EqualTo("congo=t61rcWkgMzE"));
        Assert.That(activity.Recorded, Is.True, "the caller's sampled flag");
        Assert.That(activity.GetTagItem("http.request.method"), Is.EqualTo("GET"));
        Assert.That(activity.GetTagItem("http.route"), Is.EqualTo(UserRoute));
        Assert.That(activity.GetTagItem("http.response.status_code"), Is.EqualTo(200));
        Assert.That(activity.GetTagItem("url.path"), Is.EqualTo("/users/7"));
        Assert.That(activity.GetTagItem("url.query"), Is.EqualTo("full=1"));
        Assert.That(activity.GetTagItem("network.protocol.version"), Is.EqualTo("1.1"));
        Assert.That(activity.GetTagItem("user_agent.original"), Is.EqualTo("tests"));
        Assert.That(activity.Status, Is.EqualTo(ActivityStatusCode.Unset));
        Assert.That(activity.Duration, Is.GreaterThan(TimeSpan.Zero));

        // The handler ran inside it, and what it started is its child.
        Assert.That(_seen.Single(s => s.Where == "plain").Id, Is.EqualTo(activity.Id));
        Assert.That(_seen.Single(s => s.Where == "child-parent").Id, Is.EqualTo(activity.Id));
    }

    [Test]
    public void WithoutTraceparentARequestStartsATraceAndAsyncHandlersKeepTheirActivity()
    {
        using var server = new RunningServer(Routes(), poller);
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /async HTTP/1.1\r\nHost: x\r\ntraceparent: not-a-traceparent\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("async"));
        }
        Assert.That(RunningServer.Eventually(() => stopped.Any(a => a.Source.Name == SnowDiagnostics.ActivitySourceName)), Is.True);
        Activity activity = Single(stopped);
        Assert.That(activity.ParentSpanId, Is.EqualTo(default(ActivitySpanId)), "an invalid traceparent is ignored: a new root");
        Assert.That(activity.HasRemoteParent, Is.False);
        Assert.That(_seen.Single(s => s.Where == "before await").Id, Is.EqualTo(activity.Id));
        Assert.That(_seen.Single(s => s.Where == "after await").Id, Is.EqualTo(activity.Id), "the continuation flows it");
    }

    [Test]
    public void AnIteratorHandlerResumesInsideItsActivity()
    {
        using var server = new RunningServer(Routes(), poller);
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /iterator HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("iterator"));
        }
        Activity activity = Single(stopped);
        Assert.That(_seen.Single(s => s.Where == "before park").Id, Is.EqualTo(activity.Id));
        Assert.That(_seen.Single(s => s.Where == "after park").Id, Is.EqualTo(activity.Id), "resumed on the loop inside it");
    }

    [Test]
    public void AFailedRequestsActivityHasTheErrorStatus()
    {
        using var server = new RunningServer(Routes(), poller);
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(500));
        }
        Activity activity = Single(stopped);
        Assert.That(activity.Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(activity.GetTagItem("error.type"), Is.EqualTo("500"));
        Assert.That(activity.GetTagItem("http.response.status_code"), Is.EqualTo(500));
    }

    [Test]
    public void NoActivityIsCreatedWhileNobodyListens()
    {
        using var server = new RunningServer(Routes(), poller);
        using (TestClient client = server.Connect())
        {
            client.Send($"GET /users/7 HTTP/1.1\r\nHost: x\r\ntraceparent: 00-{TraceId}-{ParentSpanId}-01\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
        }
        Assert.That(_seen.Single(s => s.Where == "plain").Id, Is.Null);
    }

    [Test]
    public void TheLoopThreadIsLeftWithoutTheRequestsActivity()
    {
        // Two requests on one connection: the second's handler must not run inside the first's activity.
        using var server = new RunningServer(Routes(), poller);
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        using (TestClient client = server.Connect())
        {
            client.Send($"GET /users/1 HTTP/1.1\r\nHost: x\r\ntraceparent: 00-{TraceId}-{ParentSpanId}-01\r\n\r\nGET /users/2 HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
        }
        var requests = stopped.Where(a => a.Source.Name == SnowDiagnostics.ActivitySourceName).ToList();
        Assert.That(requests, Has.Count.EqualTo(2));
        Assert.That(requests[0].TraceId.ToHexString(), Is.EqualTo(TraceId));
        Assert.That(requests[1].TraceId.ToHexString(), Is.Not.EqualTo(TraceId), "the second request starts its own trace");
        Assert.That(requests[1].Parent, Is.Null);
    }
}
