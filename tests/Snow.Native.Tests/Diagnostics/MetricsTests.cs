using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Diagnostics;

/// <summary>The server's meter over real sockets, read with a <see cref="MeterListener"/> that listens to this app's meter alone.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class MetricsTests(PollerKind poller)
{
    private const string UserRoute = "^/users/(?<id>[0-9]+)$";

    private readonly ConcurrentQueue<Future> _parked = new();

    [SetUp]
    public void ForgetParked() => _parked.Clear(); // the fixture object serves all its tests

    private sealed record Measured(string Instrument, double Value, Dictionary<string, object?> Tags);

    private Route[] Routes() =>
    [
        new Route(UserRoute, (HttpRequest r) => new HttpResponse($"user {r.RouteValues["id"]}")),
        new Route("^/fail$", Fail),
        new Route("^/park$", Park),
        // What the server's telemetry decided for this request: 0 while nobody listens.
        new Route("^/flags$", (HttpRequest r) => new HttpResponse($"{r.TelemetryFlags} {r.TelemetryActivity is not null}")),
    ];

    private static HttpResponse Fail(HttpRequest request) => throw new InvalidOperationException("handler failure (expected by the test)");

    private IEnumerable<Step> Park(HttpRequest request)
    {
        var future = new Future((_, _) => new HttpResponse("released"));
        _parked.Enqueue(future);
        yield return future;
    }

    private static MeterListener Listen(SnowApp app, ConcurrentQueue<Measured> into)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, app.Meter)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => into.Enqueue(new Measured(i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => into.Enqueue(new Measured(i.Name, v, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => into.Enqueue(new Measured(i.Name, v, ToDictionary(tags))));
        listener.Start();
        return listener;
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>();
        foreach (var tag in tags) result[tag.Key] = tag.Value;
        return result;
    }

    [Test]
    public void EachRequestIsMeasuredWithTheSemanticConventionsTags()
    {
        using var server = new RunningServer(Routes(), poller);
        var measured = new ConcurrentQueue<Measured>();
        using MeterListener listener = Listen(server.App, measured);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /fail HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
            Assert.That(client.ReadResponse().Status, Is.EqualTo(404));
            Assert.That(client.ReadResponse().Status, Is.EqualTo(500));
        }
        using (TestClient http10 = server.Connect())
        {
            http10.Send("GET /users/1 HTTP/1.0\r\n\r\n");
            Assert.That(http10.ReadResponse().Status, Is.EqualTo(200));
        }

        var durations = measured.Where(m => m.Instrument == "http.server.request.duration").ToList();
        Assert.That(durations, Has.Count.EqualTo(4));
        Measured user = durations[0];
        Assert.That(user.Tags["http.request.method"], Is.EqualTo("GET"));
        Assert.That(user.Tags["http.response.status_code"], Is.EqualTo(200));
        Assert.That(user.Tags["http.route"], Is.EqualTo(UserRoute));
        Assert.That(user.Tags["network.protocol.version"], Is.EqualTo("1.1"));
        Assert.That(user.Tags["url.scheme"], Is.EqualTo("http"));
        Assert.That(user.Tags.ContainsKey("error.type"), Is.False);
        Assert.That(user.Value, Is.GreaterThan(0).And.LessThan(10), "seconds");
        Assert.That(durations[1].Tags["http.response.status_code"], Is.EqualTo(404));
        Assert.That(durations[1].Tags.ContainsKey("http.route"), Is.False, "no route matched");
        Assert.That(durations[2].Tags["http.response.status_code"], Is.EqualTo(500));
        Assert.That(durations[2].Tags["error.type"], Is.EqualTo("500"));
        Assert.That(durations[3].Tags["network.protocol.version"], Is.EqualTo("1.0"));

        var active = measured.Where(m => m.Instrument == "http.server.active_requests").ToList();
        Assert.That(active.Count(m => m.Value == 1), Is.EqualTo(4));
        Assert.That(active.Sum(m => m.Value), Is.Zero, "every request that was counted in was counted out");
        Assert.That(active.All(m => Equals(m.Tags["http.request.method"], "GET") && Equals(m.Tags["url.scheme"], "http")), Is.True);
    }

    [Test]
    public void RejectedRequestsAreCountedByReason()
    {
        using var server = new RunningServer(Routes(), poller, o => o.Limits.MaxRequestHeaderCount = 3);
        var measured = new ConcurrentQueue<Measured>();
        using MeterListener listener = Listen(server.App, measured);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(400));
        }
        using (TestClient client = server.Connect())
        {
            client.Send("GET /users/1 HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(431));
        }
        var rejected = measured.Where(m => m.Instrument == "snow.server.rejected_requests").ToList();
        Assert.That(rejected.Select(m => (m.Tags["snow.rejection.reason"], m.Tags["http.response.status_code"])),
            Is.EqualTo(new (object?, object?)[] { ("bad_request", 400), ("headers_too_large", 431) }));
        Assert.That(measured.Any(m => m.Instrument == "http.server.request.duration"), Is.False, "a request refused before routing has no duration");
    }

    [Test]
    public void ConnectionsParkedRequestsBytesAndLoopsAreObservable()
    {
        using var server = new RunningServer(Routes(), poller);
        var measured = new ConcurrentQueue<Measured>();
        using MeterListener listener = Listen(server.App, measured);
        using TestClient parked = server.Connect();
        parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);

        listener.RecordObservableInstruments();
        double Last(string name) => measured.Last(m => m.Instrument == name).Value;
        Assert.That(Last("snow.server.open_connections"), Is.EqualTo(1));
        Assert.That(Last("snow.server.parked_requests"), Is.EqualTo(1));
        double received = Last("snow.server.bytes_received");
        Assert.That(received, Is.EqualTo("GET /park HTTP/1.1\r\nHost: x\r\n\r\n".Length));
        Assert.That(Last("snow.server.bytes_sent"), Is.Zero);
        Measured busy = measured.Last(m => m.Instrument == "snow.loop.busy_ratio");
        Assert.That(busy.Value, Is.InRange(0.0, 1.0));
        Assert.That(busy.Tags["snow.loop"], Is.EqualTo("snow-loop-0"));

        Assert.That(_parked.TryDequeue(out Future? future) && future.SetResult(null), Is.True);
        WireResponse response = parked.ReadResponse();
        Assert.That(response.Text, Is.EqualTo("released"));
        // The loop counts a send just after making it: the client may read the bytes first.
        Assert.That(RunningServer.Eventually(() =>
        {
            listener.RecordObservableInstruments();
            return Last("snow.server.bytes_sent") > response.Body.Length;
        }), Is.True);
        Assert.That(Last("snow.server.parked_requests"), Is.Zero);
    }

    [Test]
    public void AnAbandonedParkedRequestEndsItsMeasurement()
    {
        using var server = new RunningServer(Routes(), poller);
        var measured = new ConcurrentQueue<Measured>();
        using MeterListener listener = Listen(server.App, measured);
        using (TestClient parked = server.Connect())
        {
            parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);
        }
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 0 && measured.Any(m => m.Instrument == "http.server.request.duration")), Is.True);
        Measured duration = measured.Single(m => m.Instrument == "http.server.request.duration");
        Assert.That(duration.Tags["error.type"], Is.EqualTo("aborted"));
        Assert.That(duration.Tags.ContainsKey("http.response.status_code"), Is.False, "no response was sent");
        Assert.That(measured.Where(m => m.Instrument == "http.server.active_requests").Sum(m => m.Value), Is.Zero);
    }

    [Test]
    public void NothingIsMeasuredWhileNobodyListens()
    {
        using var server = new RunningServer(Routes(), poller);
        var measured = new ConcurrentQueue<Measured>();
        using (TestClient client = server.Connect())
        {
            client.Send("GET /flags HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("0 False"), "no timestamp, no counter, no activity");
        }
        // A listener that joins now sees only what happened since: a request is counted out only if it was counted in.
        using MeterListener listener = Listen(server.App, measured);
        using (TestClient client = server.Connect())
        {
            client.Send("GET /flags HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("3 False"), "measured and counted, no activity (nobody traces)");
        }
        Assert.That(measured.Count(m => m.Instrument == "http.server.request.duration"), Is.EqualTo(1));
        Assert.That(measured.Where(m => m.Instrument == "http.server.active_requests").Select(m => m.Value), Is.EqualTo(new[] { 1.0, -1.0 }));
    }
}
