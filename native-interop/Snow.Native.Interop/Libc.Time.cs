using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>clock_gettime, for the CPU time of the calling thread (tests use it to tell blocking from spinning).</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGetTime(int clockId, TimeSpec* time);

    /// <summary>CLOCK_THREAD_CPUTIME_ID: 3 on Linux, 16 on macOS, 14 on FreeBSD.</summary>
    public static int ThreadCpuClockId => Platform.Flavor switch
    {
        UnixFlavor.MacOS => 16,
        UnixFlavor.FreeBSD => 14,
        _ => 3,
    };

    /// <summary>CPU time the calling thread has used.</summary>
    public static TimeSpan ThreadCpuTime()
    {
        TimeSpec time;
        if (ClockGetTime(ThreadCpuClockId, &time) != 0) throw ErrnoException.FromLastError("clock_gettime");
        return TimeSpan.FromTicks((time.Seconds * TimeSpan.TicksPerSecond) + (time.Nanoseconds / 100));
    }
}
