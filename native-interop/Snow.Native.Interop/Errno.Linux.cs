namespace Snow.Native.Interop;

/// <summary>Linux errno numbers (asm-generic/errno-base.h and errno.h); the same on every architecture we run on.</summary>
internal static class LinuxErrno
{
    private static readonly (Errno Name, int Raw)[] Table =
    [
        (Errno.EPERM, 1), (Errno.ENOENT, 2), (Errno.EINTR, 4), (Errno.EIO, 5), (Errno.EBADF, 9),
        (Errno.EAGAIN, 11), (Errno.ENOMEM, 12), (Errno.EACCES, 13), (Errno.EFAULT, 14), (Errno.EEXIST, 17),
        (Errno.EINVAL, 22), (Errno.ENFILE, 23), (Errno.EMFILE, 24), (Errno.ENOSPC, 28), (Errno.EPIPE, 32),
        (Errno.ENOSYS, 38), (Errno.ENOTSOCK, 88), (Errno.EMSGSIZE, 90), (Errno.EPROTONOSUPPORT, 93),
        (Errno.EOPNOTSUPP, 95), (Errno.EAFNOSUPPORT, 97), (Errno.EADDRINUSE, 98), (Errno.EADDRNOTAVAIL, 99),
        (Errno.ENETUNREACH, 101), (Errno.ECONNABORTED, 103), (Errno.ECONNRESET, 104), (Errno.ENOBUFS, 105),
        (Errno.EISCONN, 106), (Errno.ENOTCONN, 107), (Errno.ETIMEDOUT, 110), (Errno.ECONNREFUSED, 111),
        (Errno.EHOSTUNREACH, 113), (Errno.EALREADY, 114), (Errno.EINPROGRESS, 115),
    ];

    // Indexed by raw number: errno is read on every drained socket (EAGAIN), so no scan on that path.
    private static readonly Errno[] ByRaw = BuildLookup();

    private static Errno[] BuildLookup()
    {
        var byRaw = new Errno[128];
        Array.Fill(byRaw, Errno.Unknown);
        foreach ((Errno name, int value) in Table) byRaw[value] = name;
        return byRaw;
    }

    internal static Errno ToPortable(int raw)
    {
        if (raw == 0) return Errno.Success;
        return (uint)raw < (uint)ByRaw.Length ? ByRaw[raw] : Errno.Unknown;
    }

    internal static int ToRaw(Errno errno)
    {
        foreach ((Errno name, int value) in Table)
        {
            if (name == errno) return value;
        }
        return errno == Errno.Success ? 0 : -1;
    }
}
