using BenchmarkDotNet.Attributes;
using Snow.Native.Loop;

namespace Snow.Native.Bench;

/// <summary>
/// <see cref="TimerHeap"/> at 10,000 timers with random due times (fixed seed). Every Add allocates the
/// <see cref="LoopTimer"/> it returns (the handle used to cancel): that is the API, and it shows in Allocated.
/// </summary>
public class TimerHeapBenchmarks
{
    private const int Timers = 10_000;
    private const int RandomMask = 4095;
    private static readonly Action<object?> Callback = static _ => { };

    private readonly TimerHeap _heap = new();
    private readonly TimerHeap _full = new();
    private readonly LoopTimer[] _added = new LoopTimer[Timers];
    private readonly LoopTimer[] _fullTimers = new LoopTimer[Timers];
    private readonly long[] _dues = new long[Timers];
    private readonly int[] _removeOrder = new int[Timers];
    private readonly int[] _randomIndex = new int[RandomMask + 1];
    private readonly long[] _randomDelay = new long[RandomMask + 1];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (int i = 0; i < Timers; i++)
        {
            _dues[i] = random.NextInt64(1, 10_000_000);
            _removeOrder[i] = i;
        }
        random.Shuffle(_removeOrder);
        for (int i = 0; i <= RandomMask; i++)
        {
            _randomIndex[i] = random.Next(Timers);
            _randomDelay[i] = random.NextInt64(1, 10_000_000);
        }
        for (int i = 0; i < Timers; i++) _fullTimers[i] = _full.Add(_dues[i], Callback, null);

        // Warm the reusable heap to its full capacity, so the benchmarks measure the heap, not its growth.
        RequestParserBenchmarks.Require(AddThenPopAll() == Timers, "add then pop all");
        RequestParserBenchmarks.Require(AddThenRemoveAllInRandomOrder() == Timers, "add then remove all");
        RequestParserBenchmarks.Require(_full.Count == Timers, "steady heap");
    }

    /// <summary>Add 10,000 timers, then pop them all in due order; per timer (one add and one pop).</summary>
    [Benchmark(OperationsPerInvoke = Timers)]
    public int AddThenPopAll()
    {
        TimerHeap heap = _heap;
        for (int i = 0; i < Timers; i++) heap.Add(_dues[i], Callback, null);
        int popped = 0;
        long previous = long.MinValue;
        while (heap.PopDue(long.MaxValue) is LoopTimer timer)
        {
            if (timer.DueMilliseconds < previous) return -1;
            previous = timer.DueMilliseconds;
            popped++;
        }
        return popped;
    }

    /// <summary>Add 10,000 timers, then cancel them all in random order; per timer (one add and one remove).</summary>
    [Benchmark(OperationsPerInvoke = Timers)]
    public int AddThenRemoveAllInRandomOrder()
    {
        TimerHeap heap = _heap;
        for (int i = 0; i < Timers; i++) _added[i] = heap.Add(_dues[i], Callback, null);
        int removed = 0;
        foreach (int index in _removeOrder)
        {
            if (heap.Remove(_added[index])) removed++;
        }
        return removed;
    }

    /// <summary>In a heap of 10,000: cancel a random timer and schedule a new one (a deadline pushed back).</summary>
    [Benchmark]
    public bool CancelAndRescheduleAt10k()
    {
        int slot = _next++ & RandomMask;
        int index = _randomIndex[slot];
        bool removed = _full.Remove(_fullTimers[index]);
        _fullTimers[index] = _full.Add(_fullTimers[index].DueMilliseconds + _randomDelay[slot], Callback, null);
        return removed;
    }

    /// <summary>In a heap of 10,000: pop the earliest timer and schedule one later (timeouts firing and being re-armed).</summary>
    [Benchmark]
    public long PopAndRescheduleAt10k()
    {
        LoopTimer first = _full.PopDue(long.MaxValue)!;
        int slot = _next++ & RandomMask;
        LoopTimer replacement = _full.Add(first.DueMilliseconds + _randomDelay[slot], Callback, null);
        return replacement.DueMilliseconds;
    }
}
