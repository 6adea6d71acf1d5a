using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// The OpenSSL 3 calls of the Linux TLS engine, which drives SSL_do_handshake, SSL_read and SSL_write on the
/// non-blocking socket itself (as nginx does) and answers WANT_READ / WANT_WRITE with the loop's poller. Handles
/// are raw pointers (SSL_CTX*, SSL*, X509*, EVP_PKEY*); their owners free them. The macros of ssl.h are spelled
/// out as the ctrl calls they expand to. None of these block: the socket is non-blocking.
/// </summary>
internal static unsafe partial class OpenSsl
{
    // ---- libssl: contexts ----

    [LibraryImport(Libraries.Ssl, EntryPoint = "TLS_server_method")]
    public static partial nint TlsServerMethod();

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_new")]
    public static partial nint SslCtxNew(nint method);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_free")]
    public static partial void SslCtxFree(nint context);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_ctrl")]
    public static partial nint SslCtxCtrl(nint context, int command, nint larg, nint parg);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_options")]
    public static partial ulong SslCtxSetOptions(nint context, ulong options);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_use_certificate")]
    public static partial int SslCtxUseCertificate(nint context, nint x509);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_use_PrivateKey")]
    public static partial int SslCtxUsePrivateKey(nint context, nint key);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_check_private_key")]
    public static partial int SslCtxCheckPrivateKey(nint context);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_session_id_context")]
    public static partial int SslCtxSetSessionIdContext(nint context, byte* id, uint length);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_client_hello_cb")]
    public static partial void SslCtxSetClientHelloCallback(nint context, delegate* unmanaged<nint, int*, nint, int> callback, nint argument);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_alpn_select_cb")]
    public static partial void SslCtxSetAlpnSelectCallback(nint context, delegate* unmanaged<nint, byte**, byte*, byte*, uint, nint, int> callback, nint argument);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_verify")]
    public static partial void SslCtxSetVerify(nint context, int mode, nint callback);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_CTX_set_cert_verify_callback")]
    public static partial void SslCtxSetCertVerifyCallback(nint context, delegate* unmanaged<nint, nint, int> callback, nint argument);

    // ---- libssl: sessions ----

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_new")]
    public static partial nint SslNew(nint context);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_free")]
    public static partial void SslFree(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_set_fd")]
    public static partial int SslSetFd(nint ssl, int fd);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_set_accept_state")]
    public static partial void SslSetAcceptState(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_set_SSL_CTX")]
    public static partial nint SslSetSslCtx(nint ssl, nint context);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_do_handshake")]
    public static partial int SslDoHandshake(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_read_ex")]
    public static partial int SslReadEx(nint ssl, byte* buffer, nuint count, nuint* read);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_write_ex")]
    public static partial int SslWriteEx(nint ssl, byte* buffer, nuint count, nuint* written);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_shutdown")]
    public static partial int SslShutdown(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_get_error")]
    public static partial int SslGetError(nint ssl, int result);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_has_pending")]
    public static partial int SslHasPending(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_version")]
    public static partial int SslVersion(nint ssl);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_get_servername")]
    public static partial byte* SslGetServerName(nint ssl, int type);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_get0_alpn_selected")]
    public static partial void SslGet0AlpnSelected(nint ssl, byte** data, uint* length);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_client_hello_get0_ext")]
    public static partial int SslClientHelloGet0Ext(nint ssl, uint type, byte** data, nuint* length);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_select_next_proto")]
    public static partial int SslSelectNextProto(byte** output, byte* outputLength, byte* server, uint serverLength, byte* client, uint clientLength);

    [LibraryImport(Libraries.Ssl, EntryPoint = "SSL_get_ex_data_X509_STORE_CTX_idx")]
    public static partial int SslGetExDataX509StoreCtxIndex();

    // ---- libcrypto: certificates, keys, errors ----

    [LibraryImport(Libraries.Crypto, EntryPoint = "d2i_X509")]
    public static partial nint D2iX509(nint reuse, byte** input, nint length);

    [LibraryImport(Libraries.Crypto, EntryPoint = "i2d_X509")]
    public static partial int I2dX509(nint x509, byte** output);

    [LibraryImport(Libraries.Crypto, EntryPoint = "X509_free")]
    public static partial void X509Free(nint x509);

    [LibraryImport(Libraries.Crypto, EntryPoint = "d2i_AutoPrivateKey")]
    public static partial nint D2iAutoPrivateKey(nint reuse, byte** input, nint length);

    [LibraryImport(Libraries.Crypto, EntryPoint = "EVP_PKEY_free")]
    public static partial void EvpPkeyFree(nint key);

    [LibraryImport(Libraries.Crypto, EntryPoint = "X509_STORE_CTX_get0_cert")]
    public static partial nint X509StoreCtxGet0Cert(nint store);

    [LibraryImport(Libraries.Crypto, EntryPoint = "X509_STORE_CTX_get0_untrusted")]
    public static partial nint X509StoreCtxGet0Untrusted(nint store);

    [LibraryImport(Libraries.Crypto, EntryPoint = "X509_STORE_CTX_get_ex_data")]
    public static partial nint X509StoreCtxGetExData(nint store, int index);

    [LibraryImport(Libraries.Crypto, EntryPoint = "X509_STORE_CTX_set_error")]
    public static partial void X509StoreCtxSetError(nint store, int error);

    [LibraryImport(Libraries.Crypto, EntryPoint = "OPENSSL_sk_num")]
    public static partial int StackCount(nint stack);

    [LibraryImport(Libraries.Crypto, EntryPoint = "OPENSSL_sk_value")]
    public static partial nint StackValue(nint stack, int index);

    [LibraryImport(Libraries.Crypto, EntryPoint = "ERR_get_error")]
    public static partial nuint ErrGetError();

    [LibraryImport(Libraries.Crypto, EntryPoint = "ERR_clear_error")]
    public static partial void ErrClearError();

    [LibraryImport(Libraries.Crypto, EntryPoint = "ERR_error_string_n")]
    public static partial void ErrErrorStringN(nuint error, byte* buffer, nuint length);

    // ---- what ssl.h's macros expand to ----

    public static nint SslCtxSetMode(nint context, long mode) => SslCtxCtrl(context, SSL_CTRL_MODE, (nint)mode, 0);

    public static bool SslCtxSetMinProtoVersion(nint context, int version) => SslCtxCtrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, version, 0) == 1;

    public static bool SslCtxSetMaxProtoVersion(nint context, int version) => SslCtxCtrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, version, 0) == 1;

    public static nint SslCtxSetSessionCacheMode(nint context, int mode) => SslCtxCtrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, mode, 0);

    /// <summary>SSL_CTX_add1_chain_cert: the context takes its own reference.</summary>
    public static bool SslCtxAdd1ChainCert(nint context, nint x509) => SslCtxCtrl(context, SSL_CTRL_CHAIN_CERT, 1, x509) == 1;

    /// <summary>The oldest error on this thread's queue, as OpenSSL words it (and the queue emptied), or null.</summary>
    public static string? TakeErrors()
    {
        nuint error = ErrGetError();
        if (error == 0) return null;
        byte* text = stackalloc byte[256];
        ErrErrorStringN(error, text, 256);
        ErrClearError();
        return Marshal.PtrToStringUTF8((nint)text);
    }

    // ---- constants (OpenSSL 3 ssl.h, tls1.h, x509_vfy.h) ----

    public const int SSL_ERROR_NONE = 0;
    public const int SSL_ERROR_SSL = 1;
    public const int SSL_ERROR_WANT_READ = 2;
    public const int SSL_ERROR_WANT_WRITE = 3;
    public const int SSL_ERROR_SYSCALL = 5;
    public const int SSL_ERROR_ZERO_RETURN = 6;

    public const int SSL_CTRL_MODE = 33;
    public const int SSL_CTRL_SET_SESS_CACHE_MODE = 44;
    public const int SSL_CTRL_CHAIN_CERT = 89;
    public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public const int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;

    public const long SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1;
    public const long SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2;
    public const long SSL_MODE_RELEASE_BUFFERS = 0x10;

    public const ulong SSL_OP_IGNORE_UNEXPECTED_EOF = 1UL << 7;
    public const ulong SSL_OP_NO_COMPRESSION = 1UL << 17;
    public const ulong SSL_OP_CIPHER_SERVER_PREFERENCE = 1UL << 22;
    public const ulong SSL_OP_NO_RENEGOTIATION = 1UL << 30;

    public const int SSL_SESS_CACHE_OFF = 0;

    public const int SSL_VERIFY_PEER = 0x01;
    public const int SSL_VERIFY_FAIL_IF_NO_PEER_CERT = 0x02;

    public const int SSL_CLIENT_HELLO_SUCCESS = 1;
    public const int SSL_CLIENT_HELLO_ERROR = 0;
    public const int SSL_TLSEXT_ERR_OK = 0;
    public const int SSL_TLSEXT_ERR_ALERT_FATAL = 2;
    public const int OPENSSL_NPN_NEGOTIATED = 1;
    public const int SSL_AD_INTERNAL_ERROR = 80;
    public const int SSL_AD_UNRECOGNIZED_NAME = 112;
    public const uint TLSEXT_TYPE_server_name = 0;
    public const int TLSEXT_NAMETYPE_host_name = 0;

    public const int X509_V_ERR_APPLICATION_VERIFICATION = 50;

    public const int TLS1_VERSION = 0x0301;
    public const int TLS1_1_VERSION = 0x0302;
    public const int TLS1_2_VERSION = 0x0303;
    public const int TLS1_3_VERSION = 0x0304;
}
