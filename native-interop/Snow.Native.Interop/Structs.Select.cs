using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// fd_set: FD_SETSIZE (1024) bits, 128 bytes, on Linux, macOS and FreeBSD. Bit n of the set is bit (n % 64) of
/// word (n / 64) on 64-bit little-endian systems; glibc and the BSDs agree on that. An fd of 1024 or more does
/// not fit, and the set does not check: callers must refuse such fds.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
internal unsafe struct FdSet
{
    public const int Capacity = CommonConstants.FD_SETSIZE;

    private fixed ulong _words[Capacity / 64];

    public void Set(int fd)
    {
        CheckRange(fd);
        _words[fd >> 6] |= 1UL << (fd & 63);
    }

    public void Clear(int fd)
    {
        CheckRange(fd);
        _words[fd >> 6] &= ~(1UL << (fd & 63));
    }

    public readonly bool IsSet(int fd)
    {
        CheckRange(fd);
        return (_words[fd >> 6] & (1UL << (fd & 63))) != 0;
    }

    public void ClearAll()
    {
        for (int i = 0; i < Capacity / 64; i++) _words[i] = 0;
    }

    private static void CheckRange(int fd)
    {
        if ((uint)fd >= Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(fd), fd, $"An fd_set holds descriptors 0..{Capacity - 1} only.");
        }
    }
}

/// <summary>struct timeval: tv_sec is a long; tv_usec a long on Linux, an int (padded to 16 bytes) on macOS.</summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct TimeVal
{
    public long Seconds;
    /// <summary>Written as 32 bits so that macOS's int tv_usec and Linux's long read the same value (little-endian).</summary>
    public int Microseconds;
    private readonly int _padding;

    public static TimeVal FromMilliseconds(int milliseconds) => new()
    {
        Seconds = milliseconds / 1000,
        Microseconds = (milliseconds % 1000) * 1000,
    };
}
