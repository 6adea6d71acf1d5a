using Snow.Native.Interop;

namespace Snow.Native.Polling;

/// <summary>
/// Chooses and creates pollers. The choice, strongest first: an explicit kind passed by the caller (an option),
/// then the SNOW_POLLER environment variable (epoll, kqueue or select), then the OS's best: epoll on Linux,
/// kqueue on macOS and FreeBSD, select elsewhere.
/// </summary>
internal static class PollerFactory
{
    public const string EnvironmentVariable = "SNOW_POLLER";

    /// <summary>The OS's best poller.</summary>
    public static PollerKind PlatformDefault => Platform.Flavor switch
    {
        UnixFlavor.Linux => PollerKind.Epoll,
        UnixFlavor.MacOS or UnixFlavor.FreeBSD => PollerKind.Kqueue,
        _ => PollerKind.Select,
    };

    /// <summary>The pollers this OS offers, best first.</summary>
    public static IReadOnlyList<PollerKind> Available => Platform.Flavor switch
    {
        UnixFlavor.Linux => [PollerKind.Epoll, PollerKind.Select],
        UnixFlavor.MacOS or UnixFlavor.FreeBSD => [PollerKind.Kqueue, PollerKind.Select],
        UnixFlavor.Unknown when !OperatingSystem.IsWindows() => [PollerKind.Select],
        _ => [],
    };

    public static bool IsAvailable(PollerKind kind) => Available.Contains(kind);

    /// <summary>Parses "epoll", "kqueue" or "select" (any case); "auto" or empty means <see cref="PollerKind.Auto"/>.</summary>
    public static PollerKind Parse(string? name)
    {
        string trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0 || trimmed.Equals("auto", StringComparison.OrdinalIgnoreCase)) return PollerKind.Auto;
        if (trimmed.Equals("epoll", StringComparison.OrdinalIgnoreCase)) return PollerKind.Epoll;
        if (trimmed.Equals("kqueue", StringComparison.OrdinalIgnoreCase)) return PollerKind.Kqueue;
        if (trimmed.Equals("select", StringComparison.OrdinalIgnoreCase)) return PollerKind.Select;
        throw new ArgumentException($"Unknown poller '{name}'. Choose one of: epoll, kqueue, select (available here: {AvailableNames()}).", nameof(name));
    }

    /// <summary>
    /// Turns a requested kind into the one to use: an explicit request wins, then SNOW_POLLER, then the OS default.
    /// Throws <see cref="PlatformNotSupportedException"/> naming the available pollers if the choice is not
    /// available here.
    /// </summary>
    public static PollerKind Resolve(PollerKind requested = PollerKind.Auto)
    {
        PollerKind kind = requested;
        string source = "the option";
        if (kind == PollerKind.Auto)
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            kind = Parse(fromEnvironment);
            source = $"{EnvironmentVariable}={fromEnvironment}";
        }
        if (kind == PollerKind.Auto) return PlatformDefault;
        if (!IsAvailable(kind))
        {
            throw new PlatformNotSupportedException(
                $"The {Name(kind)} poller (asked for by {source}) is not available on {Platform.Flavor}; available here: {AvailableNames()}.");
        }
        return kind;
    }

    /// <summary>Creates the poller <see cref="Resolve"/> picks.</summary>
    public static IPoller Create(PollerKind requested = PollerKind.Auto) => Resolve(requested) switch
    {
        PollerKind.Epoll => new EpollPoller(),
        PollerKind.Kqueue => new KqueuePoller(),
        PollerKind.Select => new SelectPoller(),
        _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, null),
    };

    public static string Name(PollerKind kind) => kind switch
    {
        PollerKind.Epoll => "epoll",
        PollerKind.Kqueue => "kqueue",
        PollerKind.Select => "select",
        _ => "auto",
    };

    private static string AvailableNames() => Available.Count == 0 ? "none" : string.Join(", ", Available.Select(Name));
}
