using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// errno values as one portable set. The raw numbers differ between Linux and the BSDs (EAGAIN is 11 on Linux
/// and 35 on macOS), so code above this layer only ever compares against these names.
/// </summary>
public enum Errno
{
    Success = 0,
    EPERM, ENOENT, EINTR, EIO, EBADF, ENOMEM, EACCES, EFAULT, EEXIST, EINVAL, ENFILE, EMFILE, ENOSPC, EPIPE,
    EAGAIN, EINPROGRESS, EALREADY, ENOTSOCK, EMSGSIZE, EPROTONOSUPPORT, EOPNOTSUPP, EAFNOSUPPORT,
    EADDRINUSE, EADDRNOTAVAIL, ENETUNREACH, ECONNABORTED, ECONNRESET, ENOBUFS, EISCONN, ENOTCONN,
    ETIMEDOUT, ECONNREFUSED, EHOSTUNREACH, ENOSYS,

    /// <summary>A number this table does not name; <see cref="ErrnoInfo.Raw"/> keeps it.</summary>
    Unknown = int.MaxValue,
}

/// <summary>Reads and translates errno.</summary>
public static class ErrnoInfo
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
public sealed class ErrnoException : IOException
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
