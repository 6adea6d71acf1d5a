namespace Snow.Native;

/// <summary>A minimum data rate: at least <see cref="BytesPerSecond"/> on average, once <see cref="GracePeriod"/> has passed.</summary>
public sealed class MinDataRate
{
    /// <summary>At least <paramref name="bytesPerSecond"/> on average once <paramref name="gracePeriod"/> (at least a second) has passed.</summary>
    public MinDataRate(double bytesPerSecond, TimeSpan gracePeriod)
    {
        if (!(bytesPerSecond > 0) || double.IsInfinity(bytesPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(bytesPerSecond), bytesPerSecond, "The rate must be a positive, finite number of bytes per second.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.FromSeconds(1), nameof(gracePeriod));
        BytesPerSecond = bytesPerSecond;
        GracePeriod = gracePeriod;
    }

    /// <summary>The slowest average rate accepted, in bytes per second.</summary>
    public double BytesPerSecond { get; }

    /// <summary>How long a body may take before the rate is enforced (at least a second: the check runs once a second).</summary>
    public TimeSpan GracePeriod { get; }

    /// <summary>"240 B/s after 5 s".</summary>
    public override string ToString() => $"{BytesPerSecond} B/s after {GracePeriod.TotalSeconds} s";
}
