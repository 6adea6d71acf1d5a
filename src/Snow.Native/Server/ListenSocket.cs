using System.Net;
using System.Net.Sockets;
using Snow.Native.Interop;

namespace Snow.Native.Server;

/// <summary>Creates listening sockets and prepares accepted ones, the same way on every OS.</summary>
internal static unsafe class ListenSocket
{
    /// <summary>A non-blocking, close-on-exec listening socket bound to <paramref name="endPoint"/>.</summary>
    public static int Open(IPEndPoint endPoint, bool reusePort, int backlog)
    {
        bool v6 = endPoint.AddressFamily == AddressFamily.InterNetworkV6;
        int family = v6 ? SysConst.AF_INET6 : SysConst.AF_INET;
        int fd = Libc.Socket(family, SysConst.SOCK_STREAM | SysConst.SOCK_NONBLOCK_CLOEXEC, 0);
        if (fd < 0) throw ErrnoException.FromLastError("socket");
        try
        {
            if (!SysConst.HasAccept4)
            {
                // No SOCK_NONBLOCK here (macOS): set the flags by hand. Accepted sockets inherit O_NONBLOCK on the BSDs.
                Check(Libc.SetNonBlocking(fd), "fcntl(O_NONBLOCK)");
                Check(Libc.SetCloseOnExec(fd), "fcntl(FD_CLOEXEC)");
            }
            Check(Libc.SetSockOptInt(fd, SysConst.SOL_SOCKET, SysConst.SO_REUSEADDR, 1), "setsockopt(SO_REUSEADDR)");
            if (reusePort) Check(Libc.SetSockOptInt(fd, SysConst.SOL_SOCKET, SysConst.SO_REUSEPORT, 1), "setsockopt(SO_REUSEPORT)");
            if (v6 && endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                // "::" serves IPv4 too, as users expect of a wildcard.
                Libc.SetSockOptInt(fd, SysConst.IPPROTO_IPV6, SysConst.IPV6_V6ONLY, 0);
            }
            int length = SockAddr.Encode(endPoint, Platform.Flavor, out SockAddr address);
            if (Libc.Bind(fd, &address, (uint)length) != 0)
            {
                var error = ErrnoException.FromLastError("bind");
                throw new IOException(error.Errno == Errno.EADDRINUSE
                    ? $"Cannot listen on {Format(endPoint)}: the address is already in use."
                    : $"Cannot listen on {Format(endPoint)}: {error.Message}", error);
            }
            if (Libc.Listen(fd, backlog) != 0) throw ErrnoException.FromLastError("listen");
            return fd;
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>The address the socket is bound to (the real port after binding port 0).</summary>
    public static IPEndPoint LocalEndPoint(int fd)
    {
        SockAddr address;
        uint length = (uint)sizeof(SockAddr);
        if (Libc.GetSockName(fd, &address, &length) != 0) throw ErrnoException.FromLastError("getsockname");
        return address.Decode(Platform.Flavor) ?? throw new IOException("getsockname returned an unknown address family.");
    }

    /// <summary>Per-connection options: no Nagle delay (responses are written whole), and no SIGPIPE on the BSDs.</summary>
    public static void ConfigureAccepted(int fd)
    {
        Libc.SetSockOptInt(fd, SysConst.IPPROTO_TCP, SysConst.TCP_NODELAY, 1);
        if (SysConst.SO_NOSIGPIPE != 0) Libc.SetSockOptInt(fd, SysConst.SOL_SOCKET, SysConst.SO_NOSIGPIPE, 1);
    }

    public static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : endPoint.ToString();

    private static void Check(int result, string call)
    {
        if (result != 0) throw ErrnoException.FromLastError(call);
    }
}
