using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using static Snow.Native.Interop.OpenSsl;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// What OpenSSL calls back during a handshake: the client's hello (the certificate for its SNI name), ALPN, and the
/// client's certificate. They run inside SSL_do_handshake on the loop thread, so the session is the one that thread
/// is handshaking (<see cref="OpenSslTransport.Handshaking"/>): no handle to the managed object is stored in OpenSSL.
/// An exception never crosses back into OpenSSL: it fails the handshake.
/// </summary>
internal static unsafe class OpenSslCallbacks
{
    /// <summary>The server's ALPN list in the wire format (length-prefixed names), in native memory for OpenSSL.</summary>
    private static readonly (nint Bytes, uint Length) ServerProtocols = WireFormat();

    public static void Install(nint context, ClientCertificateMode clientCertificates)
    {
        SslCtxSetClientHelloCallback(context, &OnClientHello, 0);
        SslCtxSetAlpnSelectCallback(context, &OnAlpnSelect, 0);
        if (clientCertificates == ClientCertificateMode.NoCertificate) return;
        int mode = SSL_VERIFY_PEER | (clientCertificates == ClientCertificateMode.RequireCertificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        SslCtxSetVerify(context, mode, 0);
        SslCtxSetCertVerifyCallback(context, &OnClientCertificate, 0);
    }

    private static (nint, uint) WireFormat()
    {
        var bytes = new List<byte>();
        foreach (System.Net.Security.SslApplicationProtocol protocol in TlsApplicationProtocols.Offered)
        {
            bytes.Add((byte)protocol.Protocol.Length);
            bytes.AddRange(protocol.Protocol.ToArray());
        }
        nint memory = (nint)NativeMemory.Alloc((nuint)bytes.Count); // lives as long as the process: OpenSSL points into it
        bytes.ToArray().CopyTo(new Span<byte>((void*)memory, bytes.Count));
        return (memory, (uint)bytes.Count);
    }

    [UnmanagedCallersOnly]
    private static int OnClientHello(nint ssl, int* alert, nint argument)
    {
        OpenSslTransport? session = OpenSslTransport.Handshaking;
        if (session is null)
        {
            *alert = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        try
        {
            if (session.ChooseCertificate(ssl, ServerName(ssl))) return SSL_CLIENT_HELLO_SUCCESS;
            *alert = SSL_AD_UNRECOGNIZED_NAME;
            return SSL_CLIENT_HELLO_ERROR;
        }
        catch (Exception e)
        {
            session.CallbackFailed(e);
            *alert = SSL_AD_INTERNAL_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
    }

    /// <summary>The host name of the hello's server_name extension (RFC 6066: a list holding one host_name), or null.</summary>
    private static string? ServerName(nint ssl)
    {
        byte* data;
        nuint length;
        if (SslClientHelloGet0Ext(ssl, TLSEXT_TYPE_server_name, &data, &length) != 1 || length < 5) return null;
        var extension = new ReadOnlySpan<byte>(data, (int)length);
        int listLength = extension[0] << 8 | extension[1];
        if (listLength + 2 > extension.Length || extension[2] != TLSEXT_NAMETYPE_host_name) return null;
        int nameLength = extension[3] << 8 | extension[4];
        if (nameLength == 0 || 5 + nameLength > extension.Length) return null;
        return System.Text.Encoding.ASCII.GetString(extension.Slice(5, nameLength));
    }

    [UnmanagedCallersOnly]
    private static int OnAlpnSelect(nint ssl, byte** selected, byte* selectedLength, byte* offered, uint offeredLength, nint argument)
    {
        // The first of the server's protocols that the client offered; none in common is a fatal
        // no_application_protocol alert (RFC 7301), as nginx answers an h2-only client.
        int result = SslSelectNextProto(selected, selectedLength, (byte*)ServerProtocols.Bytes, ServerProtocols.Length, offered, offeredLength);
        return result == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    [UnmanagedCallersOnly]
    private static int OnClientCertificate(nint store, nint argument)
    {
        OpenSslTransport? session = OpenSslTransport.Handshaking;
        if (session is null) return 0;
        try
        {
            nint leafHandle = X509StoreCtxGet0Cert(store);
            if (leafHandle == 0) return 0;
            X509Certificate2 leaf = ToManaged(leafHandle);
            var presented = new X509Certificate2Collection();
            nint untrusted = X509StoreCtxGet0Untrusted(store);
            int count = untrusted == 0 ? 0 : StackCount(untrusted);
            for (int i = 0; i < count; i++)
            {
                nint link = StackValue(untrusted, i);
                if (link != leafHandle) presented.Add(ToManaged(link));
            }
            if (session.AcceptClientCertificate(leaf, presented)) return 1;
            X509StoreCtxSetError(store, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
        catch (Exception e)
        {
            session.CallbackFailed(e);
            X509StoreCtxSetError(store, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
    }

    private static X509Certificate2 ToManaged(nint x509)
    {
        int length = I2dX509(x509, null);
        if (length <= 0) throw new InvalidOperationException("OpenSSL could not encode a client certificate.");
        byte[] der = new byte[length];
        fixed (byte* start = der)
        {
            byte* cursor = start;
            I2dX509(x509, &cursor);
        }
        return X509CertificateLoader.LoadCertificate(der);
    }
}
