using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// Names the C library (and OpenSSL's two). Every import says <see cref="Libc"/>, <see cref="Ssl"/> or
/// <see cref="Crypto"/>; the resolver maps it to the real file per OS, because the default probing would try
/// "libc.so", which on glibc is a linker script, not a library (and "libssl.so" exists only with the -dev package).
/// </summary>
internal static class Libraries
{
    internal const string Libc = "libc";

    /// <summary>OpenSSL 3's TLS library, used directly on Linux (the TLS engine that nginx uses too).</summary>
    internal const string Ssl = "libssl";

    /// <summary>OpenSSL 3's crypto library (certificates, keys, errors).</summary>
    internal const string Crypto = "libcrypto";

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

    /// <summary>OpenSSL 3 by its ABI-versioned file names (the ones the runtime's own TLS loads too).</summary>
    private static string[] OpenSslCandidates(string library) => Platform.Flavor switch
    {
        UnixFlavor.Linux => [library + ".so.3"],
        UnixFlavor.FreeBSD => [library + ".so.30", library + ".so.3"],
        _ => [],
    };

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string[] candidates = libraryName switch
        {
            Libc => Candidates(Platform.Flavor),
            Ssl or Crypto => OpenSslCandidates(libraryName),
            _ => [],
        };
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle)) return handle;
        }
        return IntPtr.Zero; // let the runtime fail with its own DllNotFoundException
    }

    /// <summary>The file the resolver would load on this OS, for diagnostics and tests.</summary>
    public static string? ResolvedName() => FirstLoadable(Candidates(Platform.Flavor));

    /// <summary>Whether OpenSSL 3 (both libraries) can be loaded on this machine.</summary>
    public static bool HasOpenSsl3() =>
        FirstLoadable(OpenSslCandidates(Ssl)) is not null && FirstLoadable(OpenSslCandidates(Crypto)) is not null;

    private static string? FirstLoadable(string[] candidates)
    {
        foreach (string candidate in candidates)
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
