using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using Snow.Native.Bench;

if (args.Contains("--alloc-check")) return AllocationCheck.Run(args);

IConfig config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(ThroughputColumn.BytesPerOp, ThroughputColumn.MegabytesPerSecond);

// A short job by default, so that `--filter '*'` stays within about 10 minutes on 2 cores. Any `--job` given on
// the command line (short, medium, long, default, ...) replaces it; `--iterationCount` and friends adjust either.
bool jobGiven = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
if (!jobGiven)
{
    config = config.AddJob(Job.Default
        .WithId("Quick")
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(5)
        .WithIterationTime(TimeInterval.FromMilliseconds(250)));
}

BenchmarkSwitcher.FromAssembly(typeof(Payloads).Assembly).Run(args, config);
return 0;
