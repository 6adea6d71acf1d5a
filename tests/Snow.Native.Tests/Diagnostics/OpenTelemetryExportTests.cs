using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Diagnostics;

/// <summary>The server's meter and activities in OpenTelemetry's own SDK, exported to memory as a service would export them.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class OpenTelemetryExportTests(PollerKind poller)
{
    [Test]
    public void MetricsAndSpansReachTheInMemoryExporter()
    {
        var metrics = new List<MetricSnapshot>();
        var spans = new List<Activity>();
        using var server = new RunningServer([new Route("^/items/(?<id>[0-9]+)$", (HttpRequest r) => new HttpResponse("item"))], poller);
        using (MeterProvider meters = Sdk.CreateMeterProviderBuilder().AddMeter(SnowDiagnostics.MeterName).AddInMemoryExporter(metrics).Build())
        using (TracerProvider tracer = Sdk.CreateTracerProviderBuilder().AddSource(SnowDiagnostics.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            using (TestClient client = server.Connect())
            {
                for (int i = 0; i < 3; i++)
                {
                    client.Send($"GET /items/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
                    Assert.That(client.ReadResponse().Status, Is.EqualTo(200));
                }
            }
            Assert.That(meters.ForceFlush(10_000), Is.True);
            Assert.That(tracer.ForceFlush(10_000), Is.True);
        }

        MetricSnapshot duration = metrics.Last(m => m.Name == "http.server.request.duration");
        Assert.That(duration.Unit, Is.EqualTo("s"));
        MetricPoint point = duration.MetricPoints.Single();
        Assert.That(point.GetHistogramCount(), Is.EqualTo(3));
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags) tags[tag.Key] = tag.Value;
        Assert.That(tags["http.route"], Is.EqualTo("^/items/(?<id>[0-9]+)$"));
        Assert.That(tags["http.response.status_code"], Is.EqualTo(200));
        Assert.That(tags["http.request.method"], Is.EqualTo("GET"));
        Assert.That(metrics.Select(m => m.Name), Does.Contain("http.server.active_requests")
            .And.Contain("snow.server.open_connections").And.Contain("snow.server.bytes_received").And.Contain("snow.loop.busy_ratio"));

        Assert.That(spans, Has.Count.EqualTo(3));
        Assert.That(spans.Select(s => s.DisplayName).Distinct().Single(), Is.EqualTo("GET ^/items/(?<id>[0-9]+)$"));
        Assert.That(spans.Select(s => s.GetTagItem("url.path")), Is.EqualTo(new[] { "/items/0", "/items/1", "/items/2" }));
    }
}
