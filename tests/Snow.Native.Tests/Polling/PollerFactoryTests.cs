using Snow.Native.Interop;
using Snow.Native.Polling;

namespace Snow.Native.Tests.Polling;

[NonParallelizable] // reads and writes SNOW_POLLER
public sealed class PollerFactoryTests
{
    private string? _saved;

    [SetUp]
    public void SaveEnvironment() => _saved = Environment.GetEnvironmentVariable(PollerFactory.EnvironmentVariable);

    [TearDown]
    public void RestoreEnvironment() => Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, _saved);

    [Test]
    public void PlatformDefaultIsTheOsBest()
    {
        Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, null);
        PollerKind expected = OperatingSystem.IsLinux() ? PollerKind.Epoll
            : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? PollerKind.Kqueue
            : PollerKind.Select;
        Assert.That(PollerFactory.Resolve(), Is.EqualTo(expected));
        using IPoller poller = PollerFactory.Create();
        Assert.That(poller.Kind, Is.EqualTo(expected));
        Assert.That(poller.Name, Is.EqualTo(PollerFactory.Name(expected)));
    }

    [Test]
    public void SelectIsAlwaysAvailableOnUnix()
    {
        Assert.That(PollerFactory.Available, Does.Contain(PollerKind.Select));
    }

    [TestCase("epoll", PollerKind.Epoll)]
    [TestCase("KQUEUE", PollerKind.Kqueue)]
    [TestCase(" select ", PollerKind.Select)]
    [TestCase("auto", PollerKind.Auto)]
    [TestCase("", PollerKind.Auto)]
    public void ParsesNames(string name, PollerKind kind) => Assert.That(PollerFactory.Parse(name), Is.EqualTo(kind));

    [Test]
    public void EnvironmentVariableOverridesTheDefault()
    {
        Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, "select");
        using IPoller poller = PollerFactory.Create();
        Assert.That(poller, Is.TypeOf<SelectPoller>());
    }

    [Test]
    public void AnExplicitOptionOverridesTheEnvironment()
    {
        Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, "select");
        PollerKind best = PollerFactory.PlatformDefault;
        using IPoller poller = PollerFactory.Create(best);
        Assert.That(poller.Kind, Is.EqualTo(best));
    }

    [Test]
    public void AnUnknownNameIsAClearErrorListingTheChoices()
    {
        Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, "iocp");
        var error = Assert.Throws<ArgumentException>(() => PollerFactory.Create());
        Assert.That(error!.Message, Does.Contain("iocp").And.Contain("epoll, kqueue, select"));
    }

    [Test]
    public void AnUnavailablePollerIsAClearErrorNamingWhatIsAvailable()
    {
        PollerKind missing = Platform.IsLinux ? PollerKind.Kqueue : PollerKind.Epoll;
        var error = Assert.Throws<PlatformNotSupportedException>(() => PollerFactory.Create(missing));
        Assert.That(error!.Message, Does.Contain(PollerFactory.Name(missing)).And.Contain("available here: "));
        foreach (PollerKind kind in PollerFactory.Available)
        {
            Assert.That(error.Message, Does.Contain(PollerFactory.Name(kind)));
        }
    }

    [Test]
    public void AnUnavailablePollerNamedByTheEnvironmentSaysWhereTheChoiceCameFrom()
    {
        PollerKind missing = Platform.IsLinux ? PollerKind.Kqueue : PollerKind.Epoll;
        Environment.SetEnvironmentVariable(PollerFactory.EnvironmentVariable, PollerFactory.Name(missing));
        var error = Assert.Throws<PlatformNotSupportedException>(() => PollerFactory.Create());
        Assert.That(error!.Message, Does.Contain(PollerFactory.EnvironmentVariable));
    }
}
