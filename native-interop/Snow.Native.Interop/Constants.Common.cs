namespace Snow.Native.Interop;

/// <summary>Values that are the same on Linux, macOS and FreeBSD.</summary>
internal static class CommonConstants
{
    public const int SHUT_RD = 0;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;
    /// <summary>recv flag: look at the bytes without taking them.</summary>
    public const int MSG_PEEK = 0x2;
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int FD_CLOEXEC = 1;
    public const int FD_SETSIZE = 1024;

    public const short EVFILT_READ = -1;
    public const short EVFILT_WRITE = -2;
    public const ushort EV_ADD = 0x1;
    public const ushort EV_DELETE = 0x2;
    public const ushort EV_ENABLE = 0x4;
    public const ushort EV_DISABLE = 0x8;
    public const ushort EV_ONESHOT = 0x10;
    public const ushort EV_CLEAR = 0x20;
    public const ushort EV_RECEIPT = 0x40;
    public const ushort EV_ERROR = 0x4000;
    public const ushort EV_EOF = 0x8000;
    public const uint NOTE_TRIGGER = 0x01000000;
}

/// <summary>The constants of the running OS, chosen once; code above this layer reads only these.</summary>
internal static class SysConst
{
    private static readonly UnixFlavor F = Platform.Flavor;

    public static readonly int AF_INET = 2;
    public static readonly int AF_INET6 = F switch
    {
        UnixFlavor.MacOS => MacOSConstants.AF_INET6,
        UnixFlavor.FreeBSD => FreeBSDConstants.AF_INET6,
        _ => LinuxConstants.AF_INET6,
    };
    public static readonly int SOCK_STREAM = 1;
    public static readonly int SOL_SOCKET = F == UnixFlavor.Linux ? LinuxConstants.SOL_SOCKET : MacOSConstants.SOL_SOCKET;
    public static readonly int SO_REUSEADDR = F == UnixFlavor.Linux ? LinuxConstants.SO_REUSEADDR : MacOSConstants.SO_REUSEADDR;
    public static readonly int SO_REUSEPORT = F == UnixFlavor.Linux ? LinuxConstants.SO_REUSEPORT : MacOSConstants.SO_REUSEPORT;
    public static readonly int SO_ERROR = F == UnixFlavor.Linux ? LinuxConstants.SO_ERROR : MacOSConstants.SO_ERROR;
    public static readonly int SO_SNDBUF = F == UnixFlavor.Linux ? LinuxConstants.SO_SNDBUF : MacOSConstants.SO_SNDBUF;
    public static readonly int SO_RCVBUF = F == UnixFlavor.Linux ? LinuxConstants.SO_RCVBUF : MacOSConstants.SO_RCVBUF;
    /// <summary>0 where the OS has no such option (Linux uses MSG_NOSIGNAL instead).</summary>
    public static readonly int SO_NOSIGPIPE = F switch
    {
        UnixFlavor.MacOS => MacOSConstants.SO_NOSIGPIPE,
        UnixFlavor.FreeBSD => FreeBSDConstants.SO_NOSIGPIPE,
        _ => 0,
    };
    public static readonly int IPPROTO_TCP = 6;
    public static readonly int IPPROTO_IPV6 = 41;
    public static readonly int TCP_NODELAY = 1;
    public static readonly int IPV6_V6ONLY = F == UnixFlavor.Linux ? LinuxConstants.IPV6_V6ONLY : MacOSConstants.IPV6_V6ONLY;
    /// <summary>Flags for every send: MSG_NOSIGNAL where it exists; 0 on macOS (SO_NOSIGPIPE covers it).</summary>
    public static readonly int MSG_NOSIGNAL = F switch
    {
        UnixFlavor.Linux => LinuxConstants.MSG_NOSIGNAL,
        UnixFlavor.FreeBSD => FreeBSDConstants.MSG_NOSIGNAL,
        _ => 0,
    };
    public static readonly int O_NONBLOCK = F == UnixFlavor.Linux ? LinuxConstants.O_NONBLOCK : MacOSConstants.O_NONBLOCK;
    /// <summary>Flags for accept4 and socket on systems that take them; 0 on macOS, which has neither.</summary>
    public static readonly int SOCK_NONBLOCK_CLOEXEC = F switch
    {
        UnixFlavor.Linux => LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC,
        UnixFlavor.FreeBSD => FreeBSDConstants.SOCK_NONBLOCK | FreeBSDConstants.SOCK_CLOEXEC,
        _ => 0,
    };
    /// <summary>Whether accept4 and SOCK_NONBLOCK exist (Linux, FreeBSD) or accept + fcntl is needed (macOS).</summary>
    public static readonly bool HasAccept4 = F is UnixFlavor.Linux or UnixFlavor.FreeBSD;
    /// <summary>Whether SO_REUSEPORT spreads connections over the bound sockets (Linux only among these).</summary>
    public static readonly bool ReusePortBalances = F == UnixFlavor.Linux;
    public static readonly short EVFILT_USER = F == UnixFlavor.FreeBSD ? FreeBSDConstants.EVFILT_USER : MacOSConstants.EVFILT_USER;
    public static readonly int RLIMIT_NOFILE = F == UnixFlavor.Linux ? LinuxConstants.RLIMIT_NOFILE : MacOSConstants.RLIMIT_NOFILE;
}
