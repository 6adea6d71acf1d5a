using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>
/// Several loops on one port, both ways connections reach them: a listener per loop with SO_REUSEPORT (where the
/// kernel balances it) and one listener handing accepted sockets to the loops (everywhere else).
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class MultiLoopTests(PollerKind poller)
{
    private const int Loops = 2;
    private Future _shared = new();

    private Route[] Routes() =>
    [
        ("^/loop$", (HttpRequest r) => new HttpResponse(Thread.CurrentThread.Name ?? "?")),
        ("^/park$", (HttpRequest r) => Park()),
        ("^/release$", (HttpRequest r) => new HttpResponse(
            _shared.SetResult(Thread.CurrentThread.Name) ? "released from " + Thread.CurrentThread.Name : "nothing parked")),
    ];

    private IEnumerable<Step> Park()
    {
        string parkedOn = Thread.CurrentThread.Name ?? "?";
        yield return _shared;
        // Resumed on the parked request's own loop, whichever loop completed the future.
        yield return new HttpResponse($"parked on {parkedOn}, resumed on {Thread.CurrentThread.Name}, completed by {_shared.GetResult<string>()}");
    }

    [TestCase(true, TestName = "{m}(reuseport where balanced)")]
    [TestCase(false, TestName = "{m}(one listener hands off)")]
    public void ConnectionsAreSpreadOverEveryLoop(bool reusePort)
    {
        using var server = new RunningServer(Routes(), poller, options => options.ReusePortWhereBalanced = reusePort, loops: Loops);
        Assert.That(server.App.LoopCount, Is.EqualTo(Loops));
        var clients = new List<TestClient>();
        var loopNames = new HashSet<string>();
        try
        {
            // Forty connections: with round-robin hand-off each loop gets twenty; with SO_REUSEPORT the kernel hashes
            // the source ports, and the chance that forty all land on one loop is 2^-39.
            for (int i = 0; i < 40; i++)
            {
                TestClient client = server.Connect();
                clients.Add(client);
                client.Send("GET /loop HTTP/1.1\r\nHost: x\r\n\r\n");
                WireResponse response = client.ReadResponse();
                Assert.That(response.Status, Is.EqualTo(200));
                loopNames.Add(response.Text);
            }
            Assert.That(loopNames, Is.EquivalentTo(new[] { "snow-loop-0", "snow-loop-1" }));
            Assert.That(server.App.ConnectionCount, Is.EqualTo(40));
            if (!reusePort) Assert.That(server.App.ConnectionsPerLoop, Is.EqualTo(new[] { 20, 20 }));
        }
        finally
        {
            foreach (TestClient client in clients) client.Dispose();
        }
    }

    [Test]
    public void AFutureCompletedOnAnotherLoopResumesTheRequestOnItsOwnLoop()
    {
        _shared = new Future();
        // Hand-off is round robin, so consecutive connections land on different loops.
        using var server = new RunningServer(Routes(), poller, options => options.ReusePortWhereBalanced = false, loops: Loops);
        using TestClient parked = server.Connect();
        using TestClient releaser = server.Connect();
        parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);

        releaser.Send("GET /release HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(releaser.ReadResponse().Text, Is.EqualTo("released from snow-loop-1"));
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("parked on snow-loop-0, resumed on snow-loop-0, completed by snow-loop-1"));
        Assert.That(server.App.ParkedRequestCount, Is.Zero);
    }
}
