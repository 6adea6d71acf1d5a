using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Snow.Native.Hosting.Tests;

/// <summary>AddSnow under a real Generic Host: it starts and stops with the host, over a real socket.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Names))]
[NonParallelizable]
public sealed class HostLifetimeTests(string poller)
{
    [Test]
    public async Task TheServerStartsWithTheHostAnswersOverASocketAndStopsWithIt()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller);
        builder.Services.AddSnow([("^/hello$", (HttpRequest r) => new HttpResponse("hello from the host"))]);
        using IHost host = builder.Build();
        await host.StartAsync();
        SnowHostedService snow = host.Snow();
        Assert.That(snow.App!.IsRunning, Is.True);
        Assert.That(snow.App.PollerName, Is.EqualTo(poller));
        Assert.That(snow.Url, Does.StartWith("http://127.0.0.1:").And.Not.EndWith(":0/"));

        string response = HostedServer.Get(host, "/hello");
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK\r\n"));
        Assert.That(HostedServer.Body(response), Is.EqualTo("hello from the host"));

        await host.StopAsync();
        Assert.That(snow.App.IsRunning, Is.False);
        Assert.That(HostedServer.CanConnect(snow.LocalEndPoint!), Is.False, "the listener is closed");
    }

    [Test]
    public async Task TheServerLogsThroughTheHostsLoggerFactory()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller);
        var logs = new CapturingLoggerProvider();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSnow([("^/hello$", (HttpRequest r) => new HttpResponse("hello"))]);
        using IHost host = builder.Build();
        await host.StartAsync();
        string url = host.Snow().Url!;
        await host.StopAsync();

        var snowLines = logs.Entries.Where(e => e.Category == "Snow.Native").ToArray();
        Assert.That(snowLines.Select(e => e.EventId.Name), Is.EqualTo(new[] { "Started", "Listening", "Stopping", "Stopped" }));
        Assert.That(snowLines[1].Message, Does.Contain(url));
    }

    [Test]
    public async Task HandlersReachServicesFromTheContainerThroughTheConfigureCallback()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller);
        builder.Services.AddSingleton(new Greeting("hello, container"));
        builder.Services.AddSnow((services, snow) =>
        {
            var greeting = services.GetRequiredService<Greeting>();
            snow.Routes.Add(("^/greet$", (HttpRequest r) => new HttpResponse(greeting.Text)));
        });
        using IHost host = builder.Build();
        await host.StartAsync();
        Assert.That(HostedServer.Body(HostedServer.Get(host, "/greet")), Is.EqualTo("hello, container"));
        await host.StopAsync();
    }

    [Test]
    public async Task AParkedRequestCompletedDuringTheHostsStopIsAnswered()
    {
        var future = new Future((request, f) => new HttpResponse(f.GetResult<string>() ?? ""));
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?> { ["Snow:ShutdownTimeout"] = "00:10:00" });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromMinutes(10));
        builder.Services.AddSnow([("^/park$", (HttpRequest r) => Park(future))]);
        using IHost host = builder.Build();
        await host.StartAsync();
        SnowApp app = host.Snow().App!;
        using Socket parked = SendPark(host);
        Assert.That(Eventually(() => app.ParkedRequestCount == 1), Is.True);

        Task stopping = host.StopAsync();
        Assert.That(Eventually(() => !HostedServer.CanConnect(app.LocalEndPoint!)), Is.True, "the listener closes at once");
        Assert.That(stopping.IsCompleted, Is.False, "the stop waits for the parked request");
        Assert.That(future.SetResult("done"), Is.True);
        string response = HostedServer.ReadToEnd(parked);
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK\r\n").And.Contain("Connection: close"));
        Assert.That(HostedServer.Body(response), Is.EqualTo("done"));
        Assert.That(await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(stopping));
        Assert.That(app.IsRunning, Is.False);
    }

    [Test]
    public async Task TheHostsShutdownTimeoutCutsTheGracefulStopShort()
    {
        // Snow.Native would wait ten minutes for the parked request; the host allows 200 ms.
        var future = new Future((request, f) => new HttpResponse("never"));
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?> { ["Snow:ShutdownTimeout"] = "00:10:00" });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        builder.Services.AddSnow([("^/park$", (HttpRequest r) => Park(future))]);
        using IHost host = builder.Build();
        await host.StartAsync();
        SnowApp app = host.Snow().App!;
        using Socket parked = SendPark(host);
        Assert.That(Eventually(() => app.ParkedRequestCount == 1), Is.True);

        Task stopping = host.StopAsync();
        Assert.That(await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(60))), Is.SameAs(stopping), "the host's timeout ended the stop");
        Assert.That(app.IsRunning, Is.False);
        Assert.That(HostedServer.ReadToEnd(parked), Is.Empty, "the parked connection was closed without an answer");
        Assert.That(Eventually(() => future.IsAbandoned), Is.True);
    }

    [Test]
    public async Task AServerThatStopsByItselfStopsTheHost()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller);
        SnowApp? app = null;
        builder.Services.AddSnow([("^/quit$", (HttpRequest r) =>
        {
            app!.Stop();
            return new HttpResponse("bye");
        })]);
        using IHost host = builder.Build();
        await host.StartAsync();
        app = host.Snow().App;
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        Assert.That(HostedServer.Body(HostedServer.Get(host, "/quit")), Is.EqualTo("bye"));
        Assert.That(lifetime.ApplicationStopping.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), Is.True, "the host was asked to stop");
        await host.StopAsync();
    }

    [Test]
    public void APortInUseFailsTheHostsStartWithTheServersError()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((System.Net.IPEndPoint)taken.LocalEndPoint!).Port;
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?> { ["Snow:Port"] = port.ToString() });
        builder.Services.AddSnow([("^/$", (HttpRequest r) => new HttpResponse("x"))]);
        using IHost host = builder.Build();
        var error = Assert.ThrowsAsync<IOException>(() => host.StartAsync());
        Assert.That(error!.Message, Does.Contain(port.ToString()));
    }

    private static IEnumerable<Step> Park(Future future)
    {
        yield return future;
    }

    private static Socket SendPark(IHost host)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
        socket.Connect(host.Snow().LocalEndPoint!);
        socket.Send(Encoding.ASCII.GetBytes("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"));
        return socket;
    }

    private static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }

    private sealed record Greeting(string Text);
}
