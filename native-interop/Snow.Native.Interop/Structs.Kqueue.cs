using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>struct kevent on macOS (and FreeBSD before 12): 32 bytes on 64-bit systems.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KEventMacOS
{
    public nuint Ident;
    public short Filter;
    public ushort Flags;
    public uint FFlags;
    public nint Data;
    public nint UData;
}

/// <summary>
/// struct kevent on FreeBSD 12 and later: 64 bytes; data became int64 on every architecture and four
/// 64-bit extension words follow udata.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct KEventFreeBSD
{
    public nuint Ident;
    public short Filter;
    public ushort Flags;
    public uint FFlags;
    public long Data;
    public nint UData;
    public fixed ulong Ext[4];
}

/// <summary>struct timespec: two longs on the 64-bit systems we support.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public nint Seconds;
    public nint Nanoseconds;

    public static TimeSpec FromMilliseconds(int milliseconds) => new()
    {
        Seconds = milliseconds / 1000,
        Nanoseconds = (milliseconds % 1000) * 1_000_000,
    };
}
