using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Snow.Native.Interop;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// What SslStream does not let a server choose: OpenSSL keeps a session's two record buffers (about 34 KB) for the
/// connection's life unless SSL_MODE_RELEASE_BUFFERS is set, which is the difference between 45 KB and about 15 KB
/// per idle TLS connection (nginx sets the mode for the same reason). On Linux, once a handshake is done, this
/// sets it on the SSL object the runtime made, reached through the stream's security context. That is a reach
/// into the runtime's private state, so every step is checked and any surprise (another runtime layout, another
/// OpenSSL, another OS) turns it off for good and leaves the connection as SslStream made it. Per connection, never
/// per request; no reflection (an UnsafeAccessor, which trimming and Native AOT keep).
/// </summary>
internal static class TlsEngineTuning
{
    private static volatile bool s_unavailable = !OperatingSystem.IsLinux();

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_securityContext")]
    [return: UnsafeAccessorType("System.Net.Security.SafeDeleteSslContext, System.Net.Security")]
    private static extern ref object? SecurityContext(SslStream stream);

    /// <summary>Asks OpenSSL to free the session's record buffers whenever they are empty; false when it cannot.</summary>
    public static bool ReleaseBuffersWhenIdle(SslStream engine)
    {
        if (s_unavailable) return false;
        try
        {
            if (SecurityContext(engine) is not SafeHandle { IsInvalid: false, IsClosed: false } context || !OpenSsl.IsRuntimeLibrary)
            {
                s_unavailable = true;
                return false;
            }
            bool added = false;
            context.DangerousAddRef(ref added);
            try
            {
                nint ssl = context.DangerousGetHandle();
                int version = OpenSsl.SslVersion(ssl);
                if (version is < 0x0301 or > 0x0304) // not a TLS session after all
                {
                    s_unavailable = true;
                    return false;
                }
                nint mode = OpenSsl.SslCtrl(ssl, OpenSsl.SSL_CTRL_MODE, (nint)OpenSsl.SSL_MODE_RELEASE_BUFFERS, 0);
                return (mode & (nint)OpenSsl.SSL_MODE_RELEASE_BUFFERS) != 0;
            }
            finally
            {
                if (added) context.DangerousRelease();
            }
        }
        catch (Exception e) when (e is MissingFieldException or MissingMemberException or TypeLoadException or DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
    }
}
