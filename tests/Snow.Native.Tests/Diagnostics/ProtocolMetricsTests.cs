using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.Diagnostics;

/// <summary>Request measurements at the protocol's edges, over the in-memory transport (the harness's own meter).</summary>
[TestFixture]
[NonParallelizable]
public sealed class ProtocolMetricsTests
{
    [Test]
    public void ARequestWhoseBodyNeverCameEndsItsMeasurementWhenTheClientLeaves()
    {
        using var harness = new ProtocolHarness([
            ("^/a$", (HttpRequest _) => new HttpResponse("a")),
            new Route("^/upload$", (HttpRequest _) => new HttpResponse("never"), "POST"),
        ]);
        var measured = new ConcurrentQueue<(string Name, double Value, string? Error)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, harness.Context.Http1.Telemetry.Meter)) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => measured.Enqueue((i.Name, v, ErrorOf(tags))));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => measured.Enqueue((i.Name, v, ErrorOf(tags))));
        listener.Start();

        InMemoryTransport connection = harness.Connect();
        connection.PeerAcceptsOutput = false; // the first response stays queued
        connection.Feed(Wire.Bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"));
        connection.FeedEnd(); // the client leaves with half a body, its first answer not yet taken

        var active = measured.Where(m => m.Name == "http.server.active_requests").Select(m => m.Value).ToList();
        Assert.That(active, Is.EqualTo(new[] { 1.0, -1.0, 1.0, -1.0 }), "both requests counted in and out");
        var durations = measured.Where(m => m.Name == "http.server.request.duration").ToList();
        Assert.That(durations.Select(d => d.Error), Is.EqualTo(new string?[] { null, "aborted" }));
    }

    private static string? ErrorOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "error.type") return (string?)tag.Value;
        }
        return null;
    }
}
