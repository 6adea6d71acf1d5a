using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// fcntl. It is variadic in C. On Linux (every architecture) and on x86_64 macOS a variadic int travels exactly
/// like a fixed one, so a fixed-arity import is correct there. On arm64 macOS variadic arguments go on the stack
/// while fixed ones go in registers, so a three-argument import would leave the argument in x2 where fcntl never
/// looks. There the import fills x2..x7 with dummies, which puts the real argument in the first stack slot.
/// </summary>
internal static partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlFixed(int fd, int command, long argument);

    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int FcntlAppleArm64(int fd, int command,
        long x2, long x3, long x4, long x5, long x6, long x7, long variadicArgument);

    /// <summary>True where the variadic argument must go on the stack (Apple arm64).</summary>
    public static readonly bool FcntlArgumentOnStack =
        Platform.Flavor == UnixFlavor.MacOS && Platform.Architecture == Architecture.Arm64;

    public static int Fcntl(int fd, int command, long argument) => FcntlArgumentOnStack
        ? FcntlAppleArm64(fd, command, 0, 0, 0, 0, 0, 0, argument)
        : FcntlFixed(fd, command, argument);

    public static int SetNonBlocking(int fd)
    {
        int flags = Fcntl(fd, CommonConstants.F_GETFL, 0);
        if (flags < 0) return flags;
        if ((flags & SysConst.O_NONBLOCK) != 0) return 0;
        return Fcntl(fd, CommonConstants.F_SETFL, flags | SysConst.O_NONBLOCK);
    }

    public static int SetCloseOnExec(int fd) => Fcntl(fd, CommonConstants.F_SETFD, CommonConstants.FD_CLOEXEC);
}
