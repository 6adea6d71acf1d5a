using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>select. The sets hold fds below FD_SETSIZE only; see <see cref="FdSet"/>.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "select", SetLastError = true)]
    public static partial int Select(int fdCount, FdSet* read, FdSet* write, FdSet* except, TimeVal* timeout);
}
