using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// Names the C library. Every import says <see cref="Libc"/>; the resolver maps it to the real file per OS,
/// because the default probing would try "libc.so", which on glibc is a linker script, not a library.
/// </summary>
internal static class Libraries
{
    internal const string Libc = "libc";

    private static string[] Candidates(UnixFlavor flavor) => flavor switch
    {
        UnixFlavor.Linux => ["libc.so.6", "libc.so"], // glibc first, then musl, whose libc.so is the library itself
        UnixFlavor.MacOS => ["libSystem.dylib", "/usr/lib/libSystem.dylib"],
        UnixFlavor.FreeBSD => ["libc.so.7"],
        _ => ["libc"],
    };

#pragma warning disable CA2255 // The resolver must be in place before the first import runs, whatever the entry point.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(Libraries).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != Libc) return IntPtr.Zero;
        foreach (string candidate in Candidates(Platform.Flavor))
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle)) return handle;
        }
        return IntPtr.Zero; // let the runtime fail with its own DllNotFoundException
    }

    /// <summary>The file the resolver would load on this OS, for diagnostics and tests.</summary>
    public static string? ResolvedName()
    {
        foreach (string candidate in Candidates(Platform.Flavor))
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                NativeLibrary.Free(handle);
                return candidate;
            }
        }
        return null;
    }
}
