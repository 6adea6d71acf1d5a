using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// errno values as one portable set. The raw numbers differ between Linux and the BSDs (EAGAIN is 11 on Linux
/// and 35 on macOS), so code above this layer only ever compares against these names.
/// </summary>
/// <remarks>
/// Every name but <see cref="Success"/> is numbered from 0x1001 up, above any errno a Unix defines (Linux tops out
/// at 133, 1133 on MIPS; macOS at 106; FreeBSD at 97). A raw number that slipped through as an
/// <see cref="Errno"/> (a cast instead of <see cref="ErrnoInfo.FromRaw"/>) then names nothing, instead of
/// silently meaning another error: with the old 1, 2, 3... numbering, raw 4 (EINTR everywhere) read as EIO.
/// Success stays 0, which is also what raw 0 means, so that <c>default(Errno)</c> is no error.
/// </remarks>
internal enum Errno
{
    Success = 0,

    EPERM = 0x1001,
    ENOENT = 0x1002,
    EINTR = 0x1003,
    EIO = 0x1004,
    EBADF = 0x1005,
    ENOMEM = 0x1006,
    EACCES = 0x1007,
    EFAULT = 0x1008,
    EEXIST = 0x1009,
    EINVAL = 0x100A,
    ENFILE = 0x100B,
    EMFILE = 0x100C,
    ENOSPC = 0x100D,
    EPIPE = 0x100E,
    EAGAIN = 0x100F,
    EINPROGRESS = 0x1010,
    EALREADY = 0x1011,
    ENOTSOCK = 0x1012,
    EMSGSIZE = 0x1013,
    EPROTONOSUPPORT = 0x1014,
    EOPNOTSUPP = 0x1015,
    EAFNOSUPPORT = 0x1016,
    EADDRINUSE = 0x1017,
    EADDRNOTAVAIL = 0x1018,
    ENETUNREACH = 0x1019,
    ECONNABORTED = 0x101A,
    ECONNRESET = 0x101B,
    ENOBUFS = 0x101C,
    EISCONN = 0x101D,
    ENOTCONN = 0x101E,
    ETIMEDOUT = 0x101F,
    ECONNREFUSED = 0x1020,
    EHOSTUNREACH = 0x1021,
    ENOSYS = 0x1022,

    /// <summary>A number this table does not name; the raw number is kept beside it (<see cref="ErrnoException.RawErrno"/>).</summary>
    Unknown = int.MaxValue,
}

/// <summary>Reads and translates errno.</summary>
internal static class ErrnoInfo
{
    /// <summary>
    /// The errno of the last import declared with SetLastError = true on this thread. Call it right after the
    /// failing call: anything in between (even the runtime) may overwrite it.
    /// </summary>
    public static int LastRaw() => Marshal.GetLastPInvokeError();

    /// <summary><see cref="LastRaw"/> mapped to the portable enum.</summary>
    public static Errno Last() => FromRaw(Marshal.GetLastPInvokeError());

    public static Errno FromRaw(int raw) => Platform.Flavor switch
    {
        UnixFlavor.Linux or UnixFlavor.Unknown => LinuxErrno.ToPortable(raw),
        UnixFlavor.MacOS => BsdErrno.ToPortable(raw, macOS: true),
        UnixFlavor.FreeBSD => BsdErrno.ToPortable(raw, macOS: false),
        _ => Errno.Unknown,
    };

    public static int ToRaw(Errno errno) => Platform.Flavor switch
    {
        UnixFlavor.MacOS => BsdErrno.ToRaw(errno, macOS: true),
        UnixFlavor.FreeBSD => BsdErrno.ToRaw(errno, macOS: false),
        _ => LinuxErrno.ToRaw(errno),
    };

    /// <summary>True for the errors that mean "try again later" on a non-blocking descriptor.</summary>
    public static bool IsWouldBlock(Errno errno) => errno == Errno.EAGAIN;
}

/// <summary>A failed system call: which call, the portable errno and the raw number.</summary>
internal sealed class ErrnoException : IOException
{
    public ErrnoException(string call, Errno errno, int raw)
        : base($"{call} failed: {Describe(errno, raw)}", raw)
    {
        Call = call;
        Errno = errno;
        RawErrno = raw;
    }

    public string Call { get; }

    public Errno Errno { get; }

    public int RawErrno { get; }

    /// <summary>Builds the exception from the errno the last import left behind.</summary>
    public static ErrnoException FromLastError(string call)
    {
        int raw = Marshal.GetLastPInvokeError();
        return new ErrnoException(call, ErrnoInfo.FromRaw(raw), raw);
    }

    private static string Describe(Errno errno, int raw) =>
        errno == Errno.Unknown ? $"errno {raw}" : $"{errno} ({raw}): {Marshal.GetPInvokeErrorMessage(raw)}";
}
