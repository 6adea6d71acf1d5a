using Snow.Native.Polling;

namespace Snow.Native.Tests.Tls;

/// <summary>
/// Every HTTPS fixture runs once per poller and per TLS engine this machine has: OpenSSL driven directly (where
/// OpenSSL 3 loads) and the runtime's SslStream (everywhere). Both engines take the same options and must behave alike.
/// </summary>
public static class TlsVariants
{
    public static IEnumerable<TestFixtureData> Cases
    {
        get
        {
            foreach (PollerKind poller in PollerFactory.Available)
            {
                if (Snow.Native.Interop.Libraries.HasOpenSsl3()) yield return new TestFixtureData(poller, TlsEngine.OpenSsl);
                yield return new TestFixtureData(poller, TlsEngine.SslStream);
            }
        }
    }
}

/// <summary>Which engine an endpoint gets for what it asks.</summary>
public sealed class TlsEngineChoiceTests
{
    private static Snow.Native.Server.HttpsCertificates Certificates(TlsEngine engine) =>
        new(new HttpsOptions { Certificate = new TlsCertificate(TestCertificates.Instance.Server), Engine = engine },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, "test");

    [Test]
    public void AutoIsOpenSslOnLinuxWithOpenSsl3AndSslStreamElsewhere()
    {
        bool direct = OperatingSystem.IsLinux() && Snow.Native.Interop.Libraries.HasOpenSsl3();
        Assert.That(new HttpsOptions().ResolvedEngine, Is.EqualTo(direct ? TlsEngine.OpenSsl : TlsEngine.SslStream));
        Assert.That(Certificates(TlsEngine.Auto).Settings.OpenSsl is not null, Is.EqualTo(direct));
    }

    [Test]
    public void EachEngineAskedForIsTheOneThatServes()
    {
        Assert.That(Certificates(TlsEngine.SslStream).Settings.OpenSsl, Is.Null);
        if (!Snow.Native.Interop.Libraries.HasOpenSsl3())
        {
            Assert.That(() => Certificates(TlsEngine.OpenSsl), Throws.ArgumentException.With.Message.Contains("libssl.so.3"));
            return;
        }
        Assert.That(Certificates(TlsEngine.OpenSsl).Settings.OpenSsl, Is.Not.Null);
    }

    [Test]
    public void AnEngineThatDoesNotExistIsRefused()
    {
        Assert.That(() => Certificates((TlsEngine)7), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Auto, OpenSsl or SslStream"));
    }
}
