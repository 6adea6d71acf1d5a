namespace Snow.Native.Interop;

/// <summary>macOS values (xnu bsd/sys/socket.h, fcntl.h, event.h).</summary>
internal static class MacOSConstants
{
    public const int AF_INET = 2;
    public const int AF_INET6 = 30;
    public const int SOCK_STREAM = 1;
    public const int SOL_SOCKET = 0xffff;
    public const int SO_REUSEADDR = 0x4;
    /// <summary>Lets several sockets bind the port, but the kernel does not balance connections between them.</summary>
    public const int SO_REUSEPORT = 0x200;
    public const int SO_SNDBUF = 0x1001;
    public const int SO_RCVBUF = 0x1002;
    public const int SO_ERROR = 0x1007;
    /// <summary>macOS has no MSG_NOSIGNAL; this per-socket option is how SIGPIPE is avoided.</summary>
    public const int SO_NOSIGPIPE = 0x1022;
    public const int IPPROTO_TCP = 6;
    public const int IPPROTO_IPV6 = 41;
    public const int TCP_NODELAY = 1;
    public const int IPV6_V6ONLY = 27;
    public const int O_NONBLOCK = 0x4;
    public const int O_CLOEXEC = 0x1000000;

    public const short EVFILT_USER = -10;

    public const int RLIMIT_NOFILE = 8;
}
