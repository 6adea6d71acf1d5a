using System.Diagnostics;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// Reads the resident set size (VmRSS in /proc/PID/status) of a server, summed over its processes when it is
/// several instances, and waits for it to settle.
/// </summary>
internal sealed class ResidentMemory(IReadOnlyList<int> processIds)
{
    private readonly string[] _statusPaths = [.. processIds.Select(id => $"/proc/{id}/status")];

    /// <summary>VmRSS in bytes, summed over the processes.</summary>
    /// <exception cref="IOException">A process is gone or its status cannot be read.</exception>
    public long ReadBytes() => _statusPaths.Sum(ReadBytes);

    private static long ReadBytes(string statusPath)
    {
        foreach (string line in File.ReadLines(statusPath))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            // "VmRSS:	   12345 kB"
            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        throw new IOException($"no VmRSS in {statusPath}");
    }

    /// <summary>
    /// Samples until the last <paramref name="window"/> of samples moved less than the tolerance, or until
    /// <paramref name="longest"/> has passed; returns the last sample. A server still reading requests or
    /// a GC still growing its heap moves the RSS; a few quiet samples in a row mean it is done.
    /// </summary>
    public async Task<long> WaitUntilSettledAsync(TimeSpan shortest, TimeSpan longest, CancellationToken cancellation)
    {
        const int window = 8;
        TimeSpan interval = TimeSpan.FromMilliseconds(250);
        var samples = new Queue<long>();
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            long sample = ReadBytes();
            samples.Enqueue(sample);
            if (samples.Count > window) samples.Dequeue();
            if (elapsed.Elapsed >= shortest && samples.Count == window)
            {
                long spread = samples.Max() - samples.Min();
                long tolerance = Math.Max(256 * 1024, sample / 200);
                if (spread <= tolerance) return sample;
            }
            if (elapsed.Elapsed >= longest) return sample;
            await Task.Delay(interval, cancellation).ConfigureAwait(false);
        }
    }
}
