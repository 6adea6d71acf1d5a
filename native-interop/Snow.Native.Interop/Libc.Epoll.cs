using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// epoll_create1, epoll_ctl, epoll_wait (Linux). The event pointer is untyped because the struct's layout depends
/// on the architecture; see <see cref="EpollEventLayout"/>.
/// </summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int operation, int fd, void* eventPointer);

    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, void* events, int maxEvents, int timeoutMilliseconds);
}
