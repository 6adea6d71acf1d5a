namespace Snow.Native.Interop;

/// <summary>FreeBSD values (sys/sys/socket.h, fcntl.h, event.h), FreeBSD 12 and later.</summary>
internal static class FreeBSDConstants
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 28;
    public const int SOCK_STREAM = 1;
    public const int SOCK_CLOEXEC = 0x10000000;
    public const int SOCK_NONBLOCK = 0x20000000;
    public const int SOL_SOCKET = 0xffff;
    public const int SO_REUSEADDR = 0x4;
    public const int SO_REUSEPORT = 0x200;
    /// <summary>The load-balanced variant (FreeBSD 12+), the counterpart of Linux's SO_REUSEPORT.</summary>
    public const int SO_REUSEPORT_LB = 0x10000;
    public const int SO_NOSIGPIPE = 0x0800;
    public const int SO_SNDBUF = 0x1001;
    public const int SO_RCVBUF = 0x1002;
    public const int SO_ERROR = 0x1007;
    public const int IPPROTO_TCP = 6;
    public const int IPPROTO_IPV6 = 41;
    public const int TCP_NODELAY = 1;
    public const int IPV6_V6ONLY = 27;
    public const int MSG_NOSIGNAL = 0x20000;
    public const int O_NONBLOCK = 0x4;
    public const int O_CLOEXEC = 0x100000;

    public const short EVFILT_USER = -11;

    public const int RLIMIT_NOFILE = 8;
}
