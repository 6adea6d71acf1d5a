using Snow.Native.Interop;

namespace Snow.Native.Tests;

/// <summary>
/// What users see: the Snow.Native namespace and nothing else. The loop, the pollers, the parser and libc are
/// internal, so they can change without breaking anyone (DESIGN.md: native-interop is internal to the product).
/// </summary>
public sealed class PublicApiTests
{
    [Test]
    public void EveryPublicTypeOfSnowNativeIsInTheSnowNativeNamespace()
    {
        Type[] elsewhere = typeof(SnowApp).Assembly.GetExportedTypes()
            .Where(type => type.Namespace != "Snow.Native")
            .ToArray();
        Assert.That(elsewhere.Select(type => type.FullName), Is.Empty);
    }

    [Test]
    public void TheInteropAssemblyExportsNothing()
    {
        Assert.That(typeof(Libc).Assembly.GetExportedTypes().Select(type => type.FullName), Is.Empty);
    }

    [Test]
    public void TheInfrastructureIsNotPublic()
    {
        // The first test would pass if one of these moved into Snow.Native and turned public: these stay internal.
        string[] internalNames =
        [
            "Snow.Native.Loop.EventLoop", "Snow.Native.Loop.EventLoopSynchronizationContext", "Snow.Native.Loop.LoopTimer",
            "Snow.Native.Polling.IPoller", "Snow.Native.Polling.PollerFactory", "Snow.Native.Polling.EpollPoller",
            "Snow.Native.Polling.SelectPoller", "Snow.Native.Polling.PollEvent",
        ];
        var assembly = typeof(SnowApp).Assembly;
        Assert.Multiple(() =>
        {
            foreach (string name in internalNames)
            {
                Type? type = assembly.GetType(name);
                Assert.That(type, Is.Not.Null, name);
                Assert.That(type!.IsPublic, Is.False, name);
            }
            Assert.That(typeof(SnowApp).Assembly.GetExportedTypes().Select(type => type.Name),
                Does.Contain(nameof(PollerKind)).And.Contain(nameof(HttpLimits)).And.Contain(nameof(Future)));
        });
    }
}
