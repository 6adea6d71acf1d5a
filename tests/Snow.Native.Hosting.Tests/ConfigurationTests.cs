using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Snow.Native.Hosting.Tests;

/// <summary>The "Snow" configuration section onto SnowHostOptions: every setting, and clear errors for bad ones.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Names))]
public sealed class ConfigurationTests(string poller)
{
    private static readonly Route[] Routes = [("^/hello$", (HttpRequest r) => new HttpResponse("hello"))];

    private SnowHostOptions Bind(IDictionary<string, string?> settings, Action<SnowHostOptions>? code = null)
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller, settings);
        builder.Services.AddSnow(options =>
        {
            foreach (Route route in Routes) options.Routes.Add(route);
            code?.Invoke(options);
        });
        using IHost host = builder.Build();
        return host.Services.GetRequiredService<IOptions<SnowHostOptions>>().Value;
    }

    [Test]
    public void EverySettingIsBoundFromTheSection()
    {
        SnowHostOptions options = Bind(new Dictionary<string, string?>
        {
            ["Snow:Host"] = "localhost",
            ["Snow:Port"] = "9123",
            ["Snow:Loops"] = "3",
            ["Snow:Limits:MaxRequestLineBytes"] = "4096",
            ["Snow:Limits:MaxRequestHeadersTotalBytes"] = "16384",
            ["Snow:Limits:MaxRequestHeaderCount"] = "50",
            ["Snow:Limits:MaxRequestBodyBytes"] = "1000000",
            ["Snow:Limits:MaxChunkSizeLineBytes"] = "512",
            ["Snow:RequestHeadersTimeout"] = "00:00:10",
            ["Snow:KeepAliveTimeout"] = "00:01:00",
            ["Snow:RequestBodyIdleTimeout"] = "00:00:20",
            ["Snow:SendStallTimeout"] = "00:00:40",
            ["Snow:LingerTimeout"] = "00:00:01",
            ["Snow:ShutdownTimeout"] = "00:00:15",
            ["Snow:AcceptPauseOnFdExhaustion"] = "00:00:00.250",
            ["Snow:MinRequestBodyDataRate:BytesPerSecond"] = "100",
            ["Snow:MinRequestBodyDataRate:GracePeriod"] = "00:00:03",
            ["Snow:MaxBufferedRequestBodyBytesPerLoop"] = "1048576",
            ["Snow:MaxConnections"] = "500",
            ["Snow:MaxResponseBufferBytes"] = "32768",
            ["Snow:AcceptBatch"] = "16",
            ["snow:backlog"] = "128", // keys are case-insensitive, as everywhere in configuration
            ["Snow:AddServerHeader"] = "false",
        });
        SnowOptions server = options.Server;
        Assert.Multiple(() =>
        {
            Assert.That((options.Host, options.Port), Is.EqualTo(("localhost", 9123)));
            Assert.That(server.Poller.ToString().ToLowerInvariant(), Is.EqualTo(poller));
            Assert.That(server.Loops, Is.EqualTo(3));
            Assert.That(server.Limits.MaxRequestLineBytes, Is.EqualTo(4096));
            Assert.That(server.Limits.MaxRequestHeadersTotalBytes, Is.EqualTo(16384));
            Assert.That(server.Limits.MaxRequestHeaderCount, Is.EqualTo(50));
            Assert.That(server.Limits.MaxRequestBodyBytes, Is.EqualTo(1_000_000));
            Assert.That(server.Limits.MaxChunkSizeLineBytes, Is.EqualTo(512));
            Assert.That(server.RequestHeadersTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(server.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromMinutes(1)));
            Assert.That(server.RequestBodyIdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(20)));
            Assert.That(server.SendStallTimeout, Is.EqualTo(TimeSpan.FromSeconds(40)));
            Assert.That(server.LingerTimeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(server.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(15)));
            Assert.That(server.AcceptPauseOnFdExhaustion, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(server.MinRequestBodyDataRate!.BytesPerSecond, Is.EqualTo(100));
            Assert.That(server.MinRequestBodyDataRate.GracePeriod, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(server.MaxBufferedRequestBodyBytesPerLoop, Is.EqualTo(1_048_576));
            Assert.That(server.MaxConnections, Is.EqualTo(500));
            Assert.That(server.MaxResponseBufferBytes, Is.EqualTo(32768));
            Assert.That(server.AcceptBatch, Is.EqualTo(16));
            Assert.That(server.Backlog, Is.EqualTo(128));
            Assert.That(server.AddServerHeader, Is.False);
        });
    }

    [Test]
    public void TheSectionOverridesWhatCodeSetAndLeavesTheRest()
    {
        SnowHostOptions options = Bind(
            new Dictionary<string, string?> { ["Snow:Port"] = "9200", ["Snow:MaxConnections"] = "none", ["Snow:MinRequestBodyDataRate"] = "off" },
            code => { code.Port = 1234; code.Server.KeepAliveTimeout = TimeSpan.FromSeconds(7); code.Server.MaxConnections = 10; });
        Assert.That(options.Port, Is.EqualTo(9200));
        Assert.That(options.Server.KeepAliveTimeout, Is.EqualTo(TimeSpan.FromSeconds(7)));
        Assert.That(options.Server.MaxConnections, Is.Null);
        Assert.That(options.Server.MinRequestBodyDataRate, Is.Null);
        Assert.That(options.Routes, Has.Count.EqualTo(1));
    }

    [Test]
    public void BadValuesAndUnknownKeysAreAllReportedWithTheirPathsWhenTheHostStarts()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?>
        {
            ["Snow:Port"] = "eighty",
            ["Snow:Poller"] = "epol",
            ["Snow:Loops"] = "-1",
            ["Snow:KeepAliveTimeout"] = "30",
            ["Snow:Limts:MaxRequestBodyBytes"] = "10",
            ["Snow:Limits:MaxRequestBodyBytes"] = "lots",
            ["Snow:AddServerHeader"] = "yes",
            ["Snow:MinRequestBodyDataRate:GracePeriod"] = "00:00:00.5",
        });
        builder.Services.AddSnow(Routes);
        using IHost host = builder.Build();
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        string message = error!.Message;
        TestContext.Out.WriteLine(message);
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.StartWith("The Snow.Native configuration (section 'Snow') is invalid:"));
            Assert.That(message, Does.Contain("Snow:Port: 'eighty' is not a whole number from 0 to 65535."));
            Assert.That(message, Does.Contain("Snow:Poller: 'epol' is not a poller: auto, epoll, kqueue or select."));
            Assert.That(message, Does.Contain("Snow:Loops: '-1' is not a whole number from 0 to 1024."));
            Assert.That(message, Does.Contain("Snow:KeepAliveTimeout: '30' is not a time span such as 00:00:30"));
            Assert.That(message, Does.Contain("Snow:Limts is not a Snow.Native setting; known here: Host, Port,"));
            Assert.That(message, Does.Contain("Snow:Limits:MaxRequestBodyBytes: 'lots' is not a whole number of at least 0."));
            Assert.That(message, Does.Contain("Snow:AddServerHeader: 'yes' is neither true nor false."));
            Assert.That(message, Does.Contain("Snow:MinRequestBodyDataRate:GracePeriod: '00:00:00.5' is under the least grace period"));
        });
        Assert.That(host.Snow().App, Is.Null, "nothing was started");
    }

    [Test]
    public void AnotherSectionNameCanBeUsed()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller, new Dictionary<string, string?> { ["Web:Port"] = "9300" });
        builder.Services.AddSnow(Routes, configurationSection: "Web");
        using IHost host = builder.Build();
        Assert.That(host.Services.GetRequiredService<IOptions<SnowHostOptions>>().Value.Port, Is.EqualTo(9300));
    }

    [Test]
    public void AddSnowWithoutRoutesOrTwiceIsRefusedClearly()
    {
        HostApplicationBuilder builder = HostedServer.Builder(poller);
        builder.Services.AddSnow(options => { });
        Assert.That(() => builder.Services.AddSnow(Routes), Throws.InvalidOperationException.With.Message.Contains("AddSnow was already called"));
        using IHost host = builder.Build();
        Assert.That(() => host.StartAsync().GetAwaiter().GetResult(), Throws.InvalidOperationException.With.Message.Contains("AddSnow has no routes"));
    }
}

/// <summary>What users of the hosting package see: the Snow.Native namespace only.</summary>
public sealed class HostingPublicApiTests
{
    [Test]
    public void EveryPublicTypeOfTheHostingPackageIsInTheSnowNativeNamespace()
    {
        Type[] exported = typeof(SnowHostedService).Assembly.GetExportedTypes();
        Assert.That(exported.Where(type => type.Namespace != "Snow.Native").Select(type => type.FullName), Is.Empty);
        Assert.That(exported.Select(type => type.Name), Is.EquivalentTo(new[] { "SnowHostOptions", "SnowHostedService", "SnowServiceCollectionExtensions" }));
    }
}
