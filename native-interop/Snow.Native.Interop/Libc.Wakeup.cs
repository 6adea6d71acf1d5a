using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>What a loop can be woken through: eventfd (Linux) and pipes (everywhere).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "pipe", SetLastError = true)]
    public static partial int Pipe(int* fds);

    /// <summary>pipe2 with O_NONBLOCK|O_CLOEXEC (Linux, FreeBSD).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    /// <summary>Creates a non-blocking, close-on-exec pipe on any supported OS; throws on failure.</summary>
    public static (int ReadFd, int WriteFd) CreateNonBlockingPipe()
    {
        int* fds = stackalloc int[2];
        if (Platform.Flavor == UnixFlavor.MacOS)
        {
            if (Pipe(fds) != 0) throw ErrnoException.FromLastError("pipe");
            for (int i = 0; i < 2; i++)
            {
                if (SetNonBlocking(fds[i]) != 0 || SetCloseOnExec(fds[i]) != 0)
                {
                    var error = ErrnoException.FromLastError("fcntl");
                    Close(fds[0]);
                    Close(fds[1]);
                    throw error;
                }
            }
        }
        else
        {
            int flags = Platform.Flavor == UnixFlavor.FreeBSD
                ? FreeBSDConstants.O_NONBLOCK | FreeBSDConstants.O_CLOEXEC
                : LinuxConstants.O_NONBLOCK | LinuxConstants.O_CLOEXEC;
            if (Pipe2(fds, flags) != 0) throw ErrnoException.FromLastError("pipe2");
        }
        return (fds[0], fds[1]);
    }
}
