using Microsoft.Extensions.Logging;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Logging;

/// <summary>
/// The server's log lines are source-generated with stable event ids (ServerLog, Http1Log, ExecutionLog, LoopLog):
/// start, listening address and stop at Information; a rejected request at Debug with its reason; a failed handler
/// at Error with its exception; nothing else per request above Debug.
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
public sealed class ServerLoggingTests(PollerKind poller)
{
    private static Route[] Routes() =>
    [
        ("^/hello$", (HttpRequest r) => new HttpResponse("hello")),
        new Route("^/throw$", Throw),
        new Route("^/only-get$", (HttpRequest r) => new HttpResponse("got"), "GET"),
    ];

    private static HttpResponse Throw(HttpRequest request) => throw new InvalidOperationException("the handler broke");

    [Test]
    public void StartListeningAndStopAreLoggedAtInformationWithStableEventIds()
    {
        var logs = new CapturingLoggerFactory();
        string url;
        using (var server = new RunningServer(Routes(), poller, options => options.LoggerFactory = logs))
        {
            url = server.App.Url!;
        }
        LogEntry[] lifecycle = logs.Entries.Where(e => e.EventId.Id is >= 1 and <= 4).ToArray();
        Assert.That(lifecycle.Select(e => (e.EventId.Id, e.EventId.Name)),
            Is.EqualTo(new[] { (1, "Started"), (2, "Listening"), (3, "Stopping"), (4, "Stopped") }));
        Assert.Multiple(() =>
        {
            Assert.That(lifecycle.Select(e => e.Level), Is.All.EqualTo(LogLevel.Information));
            Assert.That(lifecycle.Select(e => e.Category), Is.All.EqualTo("Snow.Native"));
            Assert.That(lifecycle[0].Message, Does.Contain(PollerFactory.Name(poller)).And.Contain("1 loop(s)"));
            Assert.That(lifecycle[1].Message, Does.Contain(url));
        });
    }

    [Test]
    public void ARejectedRequestIsLoggedAtDebugWithTheStatusAndTheReason()
    {
        var logs = new CapturingLoggerFactory();
        using var server = new RunningServer(Routes(), poller, options => options.LoggerFactory = logs);
        using TestClient client = server.Connect();
        client.Send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(400));

        Assert.That(RunningServer.Eventually(() => logs.WithId(100).Length == 1), Is.True, "one RequestRejected line");
        LogEntry rejected = logs.WithId(100)[0];
        Assert.That(rejected.Level, Is.EqualTo(LogLevel.Debug));
        Assert.That(rejected.EventId.Name, Is.EqualTo("RequestRejected"));
        Assert.That(rejected.Message, Does.StartWith("Rejecting a request with 400: ").And.Contains("Content-Length"));
    }

    [Test]
    public void AFailedHandlerIsLoggedAtErrorWithItsExceptionRouteAndRequest()
    {
        var logs = new CapturingLoggerFactory();
        using var server = new RunningServer(Routes(), poller, options => options.LoggerFactory = logs);
        using TestClient client = server.Connect();
        client.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Status, Is.EqualTo(500));

        Assert.That(RunningServer.Eventually(() => logs.WithId(200).Length == 1), Is.True, "one HandlerFailed line");
        LogEntry failed = logs.WithId(200)[0];
        Assert.Multiple(() =>
        {
            Assert.That(failed.Level, Is.EqualTo(LogLevel.Error));
            Assert.That(failed.EventId.Name, Is.EqualTo("HandlerFailed"));
            Assert.That(failed.Exception, Is.TypeOf<InvalidOperationException>().With.Message.EqualTo("the handler broke"));
            Assert.That(failed.Message, Is.EqualTo("Handler ^/throw$ failed for GET /throw HTTP/1.1; answering 500"));
        });
    }

    [Test]
    public void ServedNotFoundAndWrongMethodRequestsLogNothingAboveDebug()
    {
        var logs = new CapturingLoggerFactory();
        using (var server = new RunningServer(Routes(), poller, options => options.LoggerFactory = logs))
        {
            using TestClient client = server.Connect();
            foreach (string path in new[] { "/hello", "/missing", "/hello", "/hello?x=1" })
            {
                client.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.That(client.ReadResponse().Status, Is.AnyOf(200, 404));
            }
            client.Send("POST /only-get HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            Assert.That(client.ReadResponse().Status, Is.EqualTo(405));
            client.Send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("hello"));
        }
        LogEntry[] aboveDebug = logs.Entries.Where(e => e.Level > LogLevel.Debug && e.EventId.Id is not (>= 1 and <= 4)).ToArray();
        Assert.That(aboveDebug.Select(e => $"{e.EventId} {e.Level} {e.Message}"), Is.Empty);
        Assert.That(logs.Entries.Select(e => e.EventId.Id), Is.All.Not.EqualTo(0), "every line has an event id");
    }
}
