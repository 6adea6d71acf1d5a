using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>recv, send, writev, read, write, close.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteV(int fd, IOVector* vectors, int count);

    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint length);

    [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint length);

    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>send with the platform's no-SIGPIPE flag, so a peer that went away yields EPIPE, not a signal.</summary>
    public static nint SendNoSignal(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return Send(fd, p, (nuint)data.Length, SysConst.MSG_NOSIGNAL);
        }
    }

    public static nint Recv(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Recv(fd, p, (nuint)buffer.Length, 0);
        }
    }
}
