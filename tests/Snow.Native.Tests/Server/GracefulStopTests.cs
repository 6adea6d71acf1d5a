using System.Net.Sockets;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>Stop: listeners close at once, idle connections next, requests in progress get until the timeout.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class GracefulStopTests(PollerKind poller)
{
    private Future _future = null!;

    [SetUp]
    public void NewFuture() => _future = new Future((request, future) => new HttpResponse(future.GetResult<string>() ?? ""));

    private Route[] Routes() =>
    [
        ("^/hello$", (HttpRequest r) => new HttpResponse("hello")),
        ("^/park$", (HttpRequest r) => Park()),
    ];

    private IEnumerable<Step> Park()
    {
        yield return _future;
    }

    [Test]
    public void StopClosesIdleConnectionsRefusesNewOnesAndLetsAParkedRequestFinish()
    {
        // A long timeout: the stop must end because the last request finished, not because time ran out.
        using var server = new RunningServer(Routes(), poller, options => options.ShutdownTimeout = TimeSpan.FromSeconds(60));
        using TestClient idle = server.Connect();
        idle.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(idle.ReadResponse().Text, Is.EqualTo("hello"));
        using TestClient parked = server.Connect();
        parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);

        Task stopping = server.App.StopAsync();
        Assert.That(idle.WaitForClose(), Is.True, "the idle keep-alive connection is closed at once");
        Assert.That(RunningServer.Eventually(() => !CanConnect(server)), Is.True, "the listener is closed");
        Assert.That(stopping.IsCompleted, Is.False, "the stop waits for the parked request");

        Assert.That(_future.SetResult("done"), Is.True);
        WireResponse response = parked.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Text, Is.EqualTo("done"));
        Assert.That(response.Closes, Is.True, "answered with Connection: close");
        Assert.That(parked.WaitForClose(), Is.True);
        Assert.That(stopping.Wait(TimeSpan.FromSeconds(20)), Is.True, "the stop ended with its last connection");
        Assert.That(server.App.IsRunning, Is.False);
    }

    [Test]
    public void ARequestStillParkedAtTheTimeoutIsClosedAndItsFutureAbandoned()
    {
        using var server = new RunningServer(Routes(), poller, options => options.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        using TestClient parked = server.Connect();
        parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);

        Assert.That(server.App.StopAsync().Wait(TimeSpan.FromSeconds(20)), Is.True);
        Assert.That(parked.WaitForClose(), Is.True);
        Assert.That(_future.IsAbandoned, Is.True);
        Assert.That(server.App.ConnectionCount, Is.Zero);
    }

    [Test]
    public void StopWithAZeroTimeoutClosesEverythingAtOnce()
    {
        using var server = new RunningServer(Routes(), poller, options => options.ShutdownTimeout = TimeSpan.FromSeconds(60));
        using TestClient parked = server.Connect();
        parked.Send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 1), Is.True);

        Assert.That(server.App.StopAsync(TimeSpan.Zero).Wait(TimeSpan.FromSeconds(20)), Is.True, "no wait for the 60 s option");
        Assert.That(parked.WaitForClose(), Is.True);
        Assert.That(_future.IsAbandoned, Is.True);
    }

    private static bool CanConnect(RunningServer server)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(server.EndPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
