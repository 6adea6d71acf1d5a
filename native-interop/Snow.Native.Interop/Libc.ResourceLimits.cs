using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>getrlimit and setrlimit, for the open-file limit a server with many connections needs.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport(Libraries.Libc, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);

    /// <summary>The soft and hard open-file limits of the process.</summary>
    public static RLimit GetOpenFileLimit()
    {
        RLimit limit;
        if (GetRLimit(SysConst.RLIMIT_NOFILE, &limit) != 0) throw ErrnoException.FromLastError("getrlimit");
        return limit;
    }

    /// <summary>Raises the soft open-file limit to the hard limit (or to <paramref name="wanted"/> if lower).</summary>
    public static ulong RaiseOpenFileLimit(ulong wanted = ulong.MaxValue)
    {
        RLimit limit = GetOpenFileLimit();
        ulong target = Math.Min(wanted, limit.Maximum);
        if (limit.Current >= target) return limit.Current;
        limit.Current = target;
        if (SetRLimit(SysConst.RLIMIT_NOFILE, &limit) != 0) throw ErrnoException.FromLastError("setrlimit");
        return target;
    }

    /// <summary>Lowers both the soft and hard open-file limits to <paramref name="limit"/> (tests of EMFILE handling).</summary>
    public static void LimitOpenFiles(ulong limit)
    {
        RLimit value = new() { Current = limit, Maximum = limit };
        if (SetRLimit(SysConst.RLIMIT_NOFILE, &value) != 0) throw ErrnoException.FromLastError("setrlimit");
    }
}
