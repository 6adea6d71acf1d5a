using System.Net;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Tls;

/// <summary>A <see cref="SnowApp"/> with an HTTPS endpoint (and optionally a plain one) on free 127.0.0.1 ports.</summary>
internal sealed class HttpsServer : IDisposable
{
    public HttpsServer(IEnumerable<Route> routes, PollerKind poller, TlsEngine engine, Action<HttpsOptions>? configure = null, bool alsoPlain = false, Action<SnowOptions>? options = null)
    {
        TestCertificates certificates = TestCertificates.Instance;
        Https = new HttpsOptions { Certificate = new TlsCertificate(certificates.Server), Engine = engine };
        configure?.Invoke(Https);
        var settings = new SnowOptions { Poller = poller, Loops = 1, ShutdownTimeout = TimeSpan.Zero };
        options?.Invoke(settings);
        App = new SnowApp(routes, settings);
        var endpoints = new List<SnowEndpoint> { new("127.0.0.1", 0, Https) };
        if (alsoPlain) endpoints.Add(new SnowEndpoint("127.0.0.1", 0));
        App.Start(endpoints);
    }

    public HttpsOptions Https { get; }

    public SnowApp App { get; }

    public IPEndPoint EndPoint => App.Endpoints[0].EndPoint;

    public int Port => EndPoint.Port;

    public Uri Url(string path) => new($"https://localhost:{Port}{path}");

    public TestClient ConnectRaw(TimeSpan? timeout = null) => new(EndPoint, timeout);

    /// <summary>The server holds no connection and no pooled buffer: nothing leaked.</summary>
    public bool HoldsNothing() => RunningServer.Eventually(() => App.ConnectionCount == 0 && App.BuffersInUse == 0);

    public void Dispose() => App.Dispose();
}
