using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// kqueue and kevent (macOS, FreeBSD). The change and event lists are untyped because struct kevent is 32 bytes on
/// macOS and 64 on FreeBSD 12+ (<see cref="KEventMacOS"/>, <see cref="KEventFreeBSD"/>). FreeBSD 12 keeps the old
/// 32-byte call under a versioned symbol; the default "kevent" symbol is the 64-byte one.
/// </summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "kqueue", SetLastError = true)]
    public static partial int Kqueue();

    [LibraryImport(Libraries.Libc, EntryPoint = "kevent", SetLastError = true)]
    public static partial int KEvent(int kq, void* changeList, int changeCount, void* eventList, int eventCount, TimeSpec* timeout);
}
