using System.Globalization;
using Snow.Native.Polling;

namespace Snow.Native.Bench;

/// <summary>
/// <c>--alloc-check [--requests N]</c>: the end-to-end scenarios without BenchmarkDotNet, reporting the exact bytes
/// allocated (all threads, and the client's thread alone) over N requests after a warm-up. MemoryDiagnoser rounds
/// Allocated per operation to whole bytes; this shows what is behind a "0 B" (for example the loop's heartbeat timer,
/// which allocates once a second, not per request).
/// </summary>
internal static class AllocationCheck
{
    public static int Run(string[] args)
    {
        int requests = 102_400;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--requests" && i + 1 < args.Length) requests = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        requests = Math.Max(256, requests / 256 * 256);

        Console.WriteLine($"Allocations over {requests} requests after a warm-up of at least {requests / 4} requests and 1 s each; one server loop, one client thread.");
        Console.WriteLine();
        Console.WriteLine("| poller | path | connections | pipeline | all threads (B) | B/request | client thread (B) | gen0 GCs | req/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        bool clientClean = true;
        foreach (PollerKind poller in PollerFactory.Available)
        {
            foreach (string path in new[] { PlaintextServer.CachedPath, PlaintextServer.FreshPath, PlaintextServer.JsonPath, PlaintextServer.JsonBytesPath })
            {
                foreach (int connections in new[] { 1, 16 })
                {
                    foreach (int depth in new[] { 1, 16 })
                    {
                        using var server = new PlaintextServer(poller);
                        using LoopbackClient client = server.Connect(path, connections, depth);
                        int perRound = client.RequestsPerRound;
                        // Warm up for a second at least: tiered compilation must have settled, or the runtime's
                        // one-time allocations while it recompiles land in the measurement.
                        long warmUpStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                        int warmUpRequests = 0;
                        while (warmUpRequests < requests / 4 || System.Diagnostics.Stopwatch.GetElapsedTime(warmUpStarted).TotalSeconds < 1)
                        {
                            warmUpRequests += client.RoundTrip();
                        }
                        long started = System.Diagnostics.Stopwatch.GetTimestamp();
                        AllocationSample sample = AllocationSample.Measure(client, requests / perRound);
                        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                        clientClean &= sample.ClientThreadBytes == 0;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"| {server.App.PollerName} | {path} | {connections} | {depth} | {sample.AllThreadsBytes:N0} | {sample.AllThreadsBytesPerRequest:0.###} | {sample.ClientThreadBytes:N0} | {sample.Gen0Collections} | {sample.Requests / seconds:N0} |"));
                    }
                }
            }
        }
        Console.WriteLine();
        Console.WriteLine(clientClean ? "The client allocated nothing: the figures are the server's." : "The client allocated: the figures are not the server's alone.");
        return clientClean ? 0 : 1;
    }
}
