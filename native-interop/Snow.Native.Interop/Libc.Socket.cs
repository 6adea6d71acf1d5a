using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>socket, bind, listen, connect, setsockopt, getsockopt, getsockname, shutdown.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, SockAddr* address, uint addressLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(Libraries.Libc, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, SockAddr* address, uint addressLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint valueLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, uint* valueLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, SockAddr* address, uint* addressLength);

    [LibraryImport(Libraries.Libc, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    /// <summary>setsockopt with an int value; returns 0 or -1 like the call itself.</summary>
    public static int SetSockOptInt(int fd, int level, int name, int value) =>
        SetSockOpt(fd, level, name, &value, sizeof(int));

    /// <summary>getsockopt of an int value; throws on failure.</summary>
    public static int GetSockOptInt(int fd, int level, int name)
    {
        int value = 0;
        uint length = sizeof(int);
        if (GetSockOpt(fd, level, name, &value, &length) != 0) throw ErrnoException.FromLastError("getsockopt");
        return value;
    }
}
