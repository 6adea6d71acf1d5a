using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>accept4 (Linux, FreeBSD) and accept (macOS, which lacks accept4).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, SockAddr* address, uint* addressLength, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "accept", SetLastError = true)]
    public static partial int Accept(int fd, SockAddr* address, uint* addressLength);

    /// <summary>
    /// Accepts one connection as a non-blocking, close-on-exec socket: one accept4 call where it exists, accept
    /// plus fcntl on macOS. Returns the fd, or -1 with errno set (EAGAIN when the backlog is empty).
    /// </summary>
    public static int AcceptNonBlocking(int listenFd)
    {
        if (SysConst.HasAccept4)
        {
            return Accept4(listenFd, null, null, SysConst.SOCK_NONBLOCK_CLOEXEC);
        }
        int fd = Accept(listenFd, null, null);
        if (fd < 0) return fd;
        if (SetNonBlocking(fd) != 0 || SetCloseOnExec(fd) != 0)
        {
            int raw = Marshal.GetLastPInvokeError();
            Close(fd);
            Marshal.SetLastPInvokeError(raw);
            return -1;
        }
        return fd;
    }
}
