using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>The Unix flavours whose libc ABI this layer knows.</summary>
internal enum UnixFlavor
{
    /// <summary>Not a Unix this layer knows; only portable code paths may be used.</summary>
    Unknown,
    Linux,
    MacOS,
    FreeBSD,
}

/// <summary>Which OS and architecture the process runs on, decided once.</summary>
internal static class Platform
{
    public static readonly UnixFlavor Flavor = Detect();

    public static readonly Architecture Architecture = RuntimeInformation.ProcessArchitecture;

    public static bool IsLinux => Flavor == UnixFlavor.Linux;

    public static bool IsMacOS => Flavor == UnixFlavor.MacOS;

    public static bool IsFreeBSD => Flavor == UnixFlavor.FreeBSD;

    /// <summary>True on the BSD family (macOS, FreeBSD), whose socket ABI differs from Linux's.</summary>
    public static bool IsBsd => Flavor is UnixFlavor.MacOS or UnixFlavor.FreeBSD;

    private static UnixFlavor Detect()
    {
        if (OperatingSystem.IsLinux()) return UnixFlavor.Linux;
        if (OperatingSystem.IsMacOS() || OperatingSystem.IsMacCatalyst()) return UnixFlavor.MacOS;
        if (OperatingSystem.IsFreeBSD()) return UnixFlavor.FreeBSD;
        return UnixFlavor.Unknown;
    }
}
