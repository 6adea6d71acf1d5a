using System.Diagnostics.Metrics;

namespace Snow.Native.Server;

/// <summary>
/// The server's observable instruments: read from the loops' own counters when a listener collects, so they cost
/// nothing between collections (the loops only add to plain fields they alone write).
/// </summary>
internal static class ServerInstruments
{
    public static void Register(Meter meter, Func<LoopContext[]> loops)
    {
        meter.CreateObservableUpDownCounter("snow.server.open_connections", () => Sum(loops(), static c => c.ConnectionCount),
            "{connection}", "Connections open now.");
        meter.CreateObservableUpDownCounter("snow.server.parked_requests", () => Sum(loops(), static c => c.ParkedCount),
            "{request}", "Requests parked on a future or an unfinished task now.");
        meter.CreateObservableCounter("snow.server.bytes_received", () => Sum(loops(), static c => c.BytesReceived),
            "By", "Bytes read from connections.");
        meter.CreateObservableCounter("snow.server.bytes_sent", () => Sum(loops(), static c => c.BytesSent),
            "By", "Bytes sent on connections.");
        meter.CreateObservableGauge("snow.loop.busy_ratio", () => BusyRatios(loops()),
            "1", "Share of the last second each event loop spent working rather than waiting in its poller.");
    }

    private static long Sum(LoopContext[] loops, Func<LoopContext, long> read)
    {
        long sum = 0;
        foreach (LoopContext loop in loops) sum += read(loop);
        return sum;
    }

    private static IEnumerable<Measurement<double>> BusyRatios(LoopContext[] loops)
    {
        var measurements = new Measurement<double>[loops.Length];
        for (int i = 0; i < loops.Length; i++)
        {
            measurements[i] = new Measurement<double>(loops[i].BusyRatio, new KeyValuePair<string, object?>("snow.loop", loops[i].Loop.Name));
        }
        return measurements;
    }
}
