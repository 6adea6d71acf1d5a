using System.Diagnostics;
using Snow.Native;

namespace Snow.Native.BenchServer;

/// <summary>
/// --publish-bench COUNT: publishes through <see cref="RedisFutures.PublishAsync"/> as fast as Redis confirms them,
/// one at a time and then 64 in flight, to a key this process listens to, and prints key=value lines: the
/// confirmed publishes per second and the messages heard back per second.
/// </summary>
internal static class PublishBench
{
    private const string Key = "publish-bench";
    private const int InFlight = 64;

    public static async Task<int> RunAsync(RedisFutures redis, int count)
    {
        long heard = 0;
        using IDisposable listener = redis.Subscribe(Key, _ => Interlocked.Increment(ref heard));
        var listening = Stopwatch.StartNew();
        while (redis.ListeningKeyCount == 0)
        {
            if (listening.Elapsed > TimeSpan.FromSeconds(10))
            {
                Console.Error.WriteLine("publish-bench: the key was not subscribed within 10 s (is Redis up?)");
                return 3;
            }
            await Task.Delay(10);
        }

        int warmup = Math.Min(count, 2000);
        await PipelinedAsync(redis, warmup); // warm-up: JIT, pools, the script cache
        int sequentialCount = Math.Min(count, 5000);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < sequentialCount; i++) await redis.PublishAsync(Key, "m");
        double sequentialSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        // Every message published so far is heard before the next phase, so that it counts only its own.
        await HeardAsync(() => Interlocked.Read(ref heard), warmup + sequentialCount);

        long heardBefore = Interlocked.Read(ref heard);
        start = Stopwatch.GetTimestamp();
        await PipelinedAsync(redis, count);
        double pipelinedSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await HeardAsync(() => Interlocked.Read(ref heard), heardBefore + count);
        double heardSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long heardCount = Interlocked.Read(ref heard) - heardBefore;

        Console.WriteLine($"publishes={count}");
        Console.WriteLine($"sequential_publishes_per_second={sequentialCount / sequentialSeconds:0}");
        Console.WriteLine($"pipelined{InFlight}_publishes_per_second={count / pipelinedSeconds:0}");
        Console.WriteLine($"pipelined{InFlight}_heard={heardCount}");
        Console.WriteLine($"pipelined{InFlight}_heard_per_second={heardCount / heardSeconds:0}");
        return heardCount == count ? 0 : 1;
    }

    private static async Task HeardAsync(Func<long> heard, long expected)
    {
        var wait = Stopwatch.StartNew();
        while (heard() < expected && wait.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(1);
    }

    private static async Task PipelinedAsync(RedisFutures redis, int count)
    {
        var inFlight = new Task[InFlight];
        for (int sent = 0; sent < count; sent += InFlight)
        {
            int batch = Math.Min(InFlight, count - sent);
            for (int i = 0; i < batch; i++) inFlight[i] = redis.PublishAsync(Key, "m");
            for (int i = 0; i < batch; i++) await inFlight[i];
        }
    }
}
