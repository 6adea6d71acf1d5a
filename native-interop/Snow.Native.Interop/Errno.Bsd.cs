namespace Snow.Native.Interop;

/// <summary>
/// errno numbers of macOS (sys/errno.h in xnu) and FreeBSD (sys/sys/errno.h). They agree except for
/// EOPNOTSUPP: 102 on macOS (45 is ENOTSUP there), 45 on FreeBSD.
/// </summary>
internal static class BsdErrno
{
    private static readonly (Errno Name, int Raw)[] Table =
    [
        (Errno.EPERM, 1), (Errno.ENOENT, 2), (Errno.EINTR, 4), (Errno.EIO, 5), (Errno.EBADF, 9),
        (Errno.ENOMEM, 12), (Errno.EACCES, 13), (Errno.EFAULT, 14), (Errno.EEXIST, 17), (Errno.EINVAL, 22),
        (Errno.ENFILE, 23), (Errno.EMFILE, 24), (Errno.ENOSPC, 28), (Errno.EPIPE, 32), (Errno.EAGAIN, 35),
        (Errno.EINPROGRESS, 36), (Errno.EALREADY, 37), (Errno.ENOTSOCK, 38), (Errno.EMSGSIZE, 40),
        (Errno.EPROTONOSUPPORT, 43), (Errno.EAFNOSUPPORT, 47), (Errno.EADDRINUSE, 48),
        (Errno.EADDRNOTAVAIL, 49), (Errno.ENETUNREACH, 51), (Errno.ECONNABORTED, 53), (Errno.ECONNRESET, 54),
        (Errno.ENOBUFS, 55), (Errno.EISCONN, 56), (Errno.ENOTCONN, 57), (Errno.ETIMEDOUT, 60),
        (Errno.ECONNREFUSED, 61), (Errno.EHOSTUNREACH, 65), (Errno.ENOSYS, 78),
    ];

    private const int EOPNOTSUPP_MacOS = 102;
    private const int EOPNOTSUPP_FreeBSD = 45;

    // Indexed by raw number: errno is read on every drained socket (EAGAIN), so no scan on that path.
    private static readonly Errno[] ByRaw = BuildLookup();

    private static Errno[] BuildLookup()
    {
        var byRaw = new Errno[128];
        Array.Fill(byRaw, Errno.Unknown);
        foreach ((Errno name, int value) in Table) byRaw[value] = name;
        return byRaw;
    }

    internal static Errno ToPortable(int raw, bool macOS)
    {
        if (raw == 0) return Errno.Success;
        if (raw == (macOS ? EOPNOTSUPP_MacOS : EOPNOTSUPP_FreeBSD)) return Errno.EOPNOTSUPP;
        return (uint)raw < (uint)ByRaw.Length ? ByRaw[raw] : Errno.Unknown;
    }

    internal static int ToRaw(Errno errno, bool macOS)
    {
        if (errno == Errno.EOPNOTSUPP) return macOS ? EOPNOTSUPP_MacOS : EOPNOTSUPP_FreeBSD;
        foreach ((Errno name, int value) in Table)
        {
            if (name == errno) return value;
        }
        return errno == Errno.Success ? 0 : -1;
    }
}
