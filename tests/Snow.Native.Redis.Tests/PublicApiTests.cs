namespace Snow.Native.Redis.Tests;

/// <summary>What users of the package see: four types in the Snow.Native namespace, and no infrastructure.</summary>
public sealed class PublicApiTests
{
    [Test]
    public void ThePackageExportsItsFourTypesInTheSnowNativeNamespaceAndNothingElse()
    {
        string?[] exported = [.. typeof(RedisFutures).Assembly.GetExportedTypes().Select(type => type.FullName).Order()];
        Assert.That(exported, Is.EqualTo(new[]
        {
            "Snow.Native.KeyedFuture", "Snow.Native.KeyedPublishException", "Snow.Native.RedisFutures", "Snow.Native.RedisFuturesOptions",
        }));
    }

    [Test]
    public void OptionsRefuseValuesThatCannotWork()
    {
        var options = new RedisFuturesOptions();
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => options.ChannelPrefix = "");
            Assert.Throws<ArgumentOutOfRangeException>(() => options.VersionTimeToLive = TimeSpan.FromMilliseconds(10));
            Assert.Throws<ArgumentOutOfRangeException>(() => options.RetryInterval = TimeSpan.Zero);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.UnsubscribeDelay = TimeSpan.FromSeconds(-1));
        });
        options.VersionTimeToLive = Timeout.InfiniteTimeSpan;
        Assert.That(options.VersionTimeToLive, Is.EqualTo(Timeout.InfiniteTimeSpan));
    }
}
