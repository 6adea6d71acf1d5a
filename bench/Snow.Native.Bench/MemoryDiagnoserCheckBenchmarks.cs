using BenchmarkDotNet.Attributes;

namespace Snow.Native.Bench;

/// <summary>
/// Shows that MemoryDiagnoser counts allocations made on other threads (it reads GC.GetTotalAllocatedBytes(precise:
/// true), process-wide): both benchmarks allocate one 1,000-byte array per operation (1,024 B with the array header),
/// one on the calling thread, one on a helper thread the caller waits for. Both should read about 1 KB Allocated; the
/// handshake between the threads allocates nothing.
/// </summary>
public class MemoryDiagnoserCheckBenchmarks
{
    private const int Size = 1000;

    private Thread? _helper;
    private volatile bool _stop;
    private long _requested;
    private long _served;
    private byte[]? _kept;

    [GlobalSetup]
    public void Setup()
    {
        _helper = new Thread(HelperLoop) { IsBackground = true, Name = "allocating-helper" };
        _helper.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _helper?.Join();
    }

    [Benchmark(Baseline = true)]
    public byte[] AllocateOnThisThread() => _kept = new byte[Size];

    [Benchmark]
    public long AllocateOnAnotherThread()
    {
        long ticket = Interlocked.Increment(ref _requested);
        var spin = new SpinWait();
        while (Volatile.Read(ref _served) != ticket) spin.SpinOnce(sleep1Threshold: -1);
        return ticket;
    }

    private void HelperLoop()
    {
        var spin = new SpinWait();
        while (!_stop)
        {
            long requested = Volatile.Read(ref _requested);
            if (requested == _served)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            spin.Reset();
            for (long i = _served; i < requested; i++) _kept = new byte[Size];
            Volatile.Write(ref _served, requested);
        }
    }
}
