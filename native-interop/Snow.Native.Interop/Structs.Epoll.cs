using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// struct epoll_event on x86_64, where the kernel declares it packed: 12 bytes, data at offset 4.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct EpollEventPacked
{
    public uint Events;
    public ulong Data;
}

/// <summary>
/// struct epoll_event on arm64 and every other architecture: natural alignment, 16 bytes, data at offset 8.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EpollEventAligned
{
    public uint Events;
    public ulong Data;
}

/// <summary>Which epoll_event layout the running process must use.</summary>
internal static class EpollEventLayout
{
    /// <summary>True on x86_64 (packed, 12 bytes); false elsewhere (16 bytes).</summary>
    public static readonly bool IsPacked = Platform.Architecture == Architecture.X64;

    public static readonly int Size = IsPacked ? 12 : 16;

    public static readonly int DataOffset = IsPacked ? 4 : 8;
}
