using BenchmarkDotNet.Attributes;
using Snow.Native.Polling;

namespace Snow.Native.Bench;

/// <summary>
/// Requests over loopback against a running <see cref="SnowApp"/> (one loop), once per poller the OS offers, with
/// N keep-alive connections and D requests pipelined per connection per round. One operation is one request: Mean is
/// the time per request with N x D in flight, and Allocated is per request.
/// </summary>
/// <remarks>
/// MemoryDiagnoser reads <c>GC.GetTotalAllocatedBytes(precise: true)</c> (BenchmarkDotNet 0.15, GcStats), which
/// counts every thread of the process: the server's loop thread as well as this client thread. The client allocates
/// nothing per request (see <see cref="LoopbackClient"/>; checked in the global setup, which fails otherwise), so
/// Allocated is the server's. MemoryDiagnoserCheckBenchmarks shows that an allocation on another thread is counted.
/// </remarks>
public class EndToEndBenchmarks
{
    /// <summary>Requests per invocation; a multiple of every Connections x Pipeline product.</summary>
    public const int RequestsPerInvoke = 1024;

    private PlaintextServer? _server;
    private LoopbackClient? _client;
    private int _rounds;

    public static IEnumerable<PollerKind> Pollers => PollerFactory.Available;

    [ParamsSource(nameof(Pollers), Priority = -2)]
    public PollerKind Poller { get; set; }

    [Params(1, 16, Priority = -1)]
    public int Connections { get; set; }

    [Params(1, 16)]
    public int Pipeline { get; set; }

    [GlobalSetup(Target = nameof(CachedResponse))]
    public void SetupCached() => Setup(PlaintextServer.CachedPath);

    [GlobalSetup(Target = nameof(NewResponsePerRequest))]
    public void SetupFresh() => Setup(PlaintextServer.FreshPath);

    /// <summary>GET /plaintext answered with one static <see cref="HttpResponse"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RequestsPerInvoke)]
    public int CachedResponse() => _client!.Run(_rounds);

    /// <summary>The same, but the handler builds a new <see cref="HttpResponse"/> for each request.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public int NewResponsePerRequest() => _client!.Run(_rounds);

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        _server?.Dispose();
        _client = null;
        _server = null;
    }

    private void Setup(string path)
    {
        _server = new PlaintextServer(Poller);
        _client = _server.Connect(path, Connections, Pipeline);
        _rounds = RequestsPerInvoke / _client.RequestsPerRound;
        if (_rounds * _client.RequestsPerRound != RequestsPerInvoke)
        {
            throw new InvalidOperationException($"{RequestsPerInvoke} requests per invocation is not a multiple of {Connections} x {Pipeline}.");
        }

        // Warm the path (JIT, pools, the socket buffers), then prove the client's part allocation-free. While the
        // JIT is still tiering code up, the runtime may allocate a few bytes once (class initialisation): one
        // clean sample out of a few proves that the client's requests allocate nothing.
        _client.Run(2 * _rounds);
        AllocationSample sample = default;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            sample = AllocationSample.Measure(_client, 4 * _rounds);
            if (sample.ClientThreadBytes == 0) break;
        }
        Console.WriteLine($"// {_server.App.PollerName} {path} connections={Connections} pipeline={Pipeline}: {sample}");
        if (sample.ClientThreadBytes != 0)
        {
            throw new InvalidOperationException($"The load generator allocated {sample.ClientThreadBytes} B on its own thread: the memory figures would not be the server's.");
        }
    }
}

/// <summary>Allocations over a number of requests: all threads of the process, and the client's thread alone.</summary>
internal readonly record struct AllocationSample(int Requests, long AllThreadsBytes, long ClientThreadBytes, int Gen0Collections)
{
    public double AllThreadsBytesPerRequest => (double)AllThreadsBytes / Requests;

    public static AllocationSample Measure(LoopbackClient client, int rounds)
    {
        int gen0 = GC.CollectionCount(0);
        long all = GC.GetTotalAllocatedBytes(precise: true);
        long mine = GC.GetAllocatedBytesForCurrentThread();
        int requests = client.Run(rounds);
        long mineAfter = GC.GetAllocatedBytesForCurrentThread();
        long allAfter = GC.GetTotalAllocatedBytes(precise: true);
        return new AllocationSample(requests, allAfter - all, mineAfter - mine, GC.CollectionCount(0) - gen0);
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Requests} requests, all threads {AllThreadsBytes} B ({AllThreadsBytesPerRequest:0.###} B/request), client thread {ClientThreadBytes} B, gen0 GCs {Gen0Collections}");
}
