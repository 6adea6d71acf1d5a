using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// The two OpenSSL 3 calls the TLS transport makes on the session the runtime's SslStream created (libssl.so.3,
/// the library the runtime itself loaded on Linux): reading the protocol version, to check that a handle really is
/// a live SSL*, and SSL_ctrl, to set a mode bit. Nothing else of OpenSSL is driven from here.
/// </summary>
internal static partial class OpenSsl
{
    private const string LibSsl = "libssl.so.3";

    public const int SSL_CTRL_MODE = 33;
    /// <summary>Free the record buffers while they are empty (nginx sets it): an idle connection holds none.</summary>
    public const long SSL_MODE_RELEASE_BUFFERS = 0x10;

    [LibraryImport(LibSsl, EntryPoint = "SSL_ctrl")]
    public static partial nint SslCtrl(nint ssl, int command, nint larg, nint parg);

    [LibraryImport(LibSsl, EntryPoint = "SSL_version")]
    public static partial int SslVersion(nint ssl);

    private static readonly Lazy<bool> LoadedByRuntime = new(() =>
    {
        // Only the library the runtime already uses: a second OpenSSL in the process would not know its SSL objects.
        try
        {
            return File.ReadAllText("/proc/self/maps").Contains("/libssl.so.3", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    });

    /// <summary>True on Linux when the runtime's TLS runs on libssl.so.3 (ask after the first handshake).</summary>
    public static bool IsRuntimeLibrary => OperatingSystem.IsLinux() && LoadedByRuntime.Value;
}
