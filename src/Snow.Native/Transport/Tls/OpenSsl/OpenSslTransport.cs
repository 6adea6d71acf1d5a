using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;
using static Snow.Native.Interop.OpenSsl;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// A connection's bytes through TLS with OpenSSL driving the non-blocking socket itself, as nginx does: the loop
/// calls SSL_do_handshake, SSL_read and SSL_write when the socket is ready, and each call that cannot go on says
/// what it waits for (WANT_READ, WANT_WRITE), which becomes the socket's poll interest. Plaintext is decrypted
/// straight into <see cref="ConnectionTransport.Input"/> and encrypted straight from
/// <see cref="ConnectionTransport.Output"/>: no stream between them, no copy of the records. OpenSSL frees a
/// session's record buffers whenever they are empty (SSL_MODE_RELEASE_BUFFERS), so an idle keep-alive connection
/// holds no TLS buffer at all. Loop thread only.
/// <para>
/// TLS readiness is not socket readiness: OpenSSL may hold decrypted bytes (or whole records it read ahead)
/// while the socket has nothing new. So a read goes on while the session has bytes pending, and when reading was
/// stopped (Input full, back-pressure) and may go on again, the pending bytes are pulled on the loop at once.
/// </para>
/// Before any protocol speaks, the transport is its own protocol: the handshake, with its time limit. Then the
/// endpoint's callback chooses the protocol (by ALPN) and it takes over.
/// </summary>
internal sealed unsafe class OpenSslTransport : HandshakingTransport, IReadinessHandler, ITlsSession
{
    /// <summary>The session whose handshake runs on this thread now: OpenSSL's callbacks find it here.</summary>
    [ThreadStatic]
    private static OpenSslTransport? t_handshaking;

    private readonly int _fd;
    private readonly TlsServerSettings _settings;
    private readonly OpenSslEndpoint _endpoint;
    private readonly Action<ConnectionTransport> _startProtocol;
    private nint _ssl;
    private long _token;
    private PollInterest _interest;
    private OutputBuffer _clearText;       // the clear-text 400 for a client that spoke HTTP to the TLS port
    private string? _hostName;
    private X509Certificate2? _clientCertificate;

    private Phase _phase;
    private bool _handshakeWantsWrite;     // else it waits for records
    private bool _readWantsWrite;          // SSL_read must write first (a TLS 1.3 key update answer)
    private bool _writeWantsRead;
    private bool _shutdownPending;         // close_notify waits for room in the socket
    private bool _sessionHoldsInput;       // reading stopped while OpenSSL held plaintext or records
    private bool _pumpPosted;

    private enum Phase : byte
    {
        AwaitingHello,
        Handshaking,
        Established,
        ClearTextRefused,
    }

    public OpenSslTransport(TransportContext context, int fd, TlsServerSettings settings, Action<ConnectionTransport> startProtocol)
        : base(context)
    {
        _fd = fd;
        _settings = settings;
        _endpoint = settings.OpenSsl!;
        _startProtocol = startProtocol;
    }

    internal static OpenSslTransport? Handshaking => t_handshaking;

    /// <summary>Registers the socket and waits for the client's hello, the transport being its own protocol until the handshake is done.</summary>
    public void Start() => Start(this);

    public override ITlsSession? Tls => _phase == Phase.Established ? this : null;

    // ---- ITlsSession ----

    public X509Certificate2? ClientCertificate => _clientCertificate;

    public SslProtocols SslProtocol => _ssl == 0 ? SslProtocols.None : SslVersion(_ssl) switch
    {
        TLS1_3_VERSION => SslProtocols.Tls13,
        TLS1_2_VERSION => SslProtocols.Tls12,
#pragma warning disable SYSLIB0039 // reported as what it is, when a user enabled it
        TLS1_1_VERSION => SslProtocols.Tls11,
        TLS1_VERSION => SslProtocols.Tls,
#pragma warning restore SYSLIB0039
        _ => SslProtocols.None,
    };

    public SslApplicationProtocol ApplicationProtocol
    {
        get
        {
            if (_ssl == 0) return default;
            byte* data;
            uint length;
            SslGet0AlpnSelected(_ssl, &data, &length);
            if (length == 0) return default;
            var selected = new ReadOnlySpan<byte>(data, (int)length);
            foreach (SslApplicationProtocol offered in TlsApplicationProtocols.Offered)
            {
                if (selected.SequenceEqual(offered.Protocol.Span)) return offered;
            }
            return new SslApplicationProtocol(selected.ToArray());
        }
    }

    public string HostName => _hostName ?? "";

    // ---- What the handshake's callbacks ask (OpenSslCallbacks) ----

    internal bool ChooseCertificate(nint ssl, string? hostName)
    {
        _hostName = hostName;
        OpenSslContext chosen;
        try
        {
            chosen = _endpoint.Credentials.For(hostName);
        }
        catch (AuthenticationException e)
        {
            TlsLog.HandshakeFailed(Context.Logger, e.Message);
            return false;
        }
        SslSetSslCtx(ssl, chosen.Pointer); // the session takes its own reference
        GC.KeepAlive(chosen);
        return true;
    }

    internal bool AcceptClientCertificate(X509Certificate2 certificate, X509Certificate2Collection presentedChain)
    {
        if (!_endpoint.Credentials.AcceptClientCertificate(certificate, presentedChain)) return false;
        _clientCertificate = certificate;
        return true;
    }

    internal void CallbackFailed(Exception e) => TlsLog.HandshakeFailed(Context.Logger, e.Message);

    // ---- The transport ----

    protected override bool HasQueuedRecords => !_clearText.IsEmpty || _shutdownPending;

    protected override void Open()
    {
        _ssl = SslNew(_endpoint.BaseContext.Pointer);
        if (_ssl == 0 || SslSetFd(_ssl, _fd) != 1)
        {
            FreeSession();
            throw new InvalidOperationException($"OpenSSL could not start a session: {TakeErrors()}");
        }
        SslSetAcceptState(_ssl);
        _interest = PollInterest.Read;
        try
        {
            _token = Context.Loop.Register(_fd, _interest, this);
        }
        catch
        {
            FreeSession(); // the caller closes the socket
            throw;
        }
        SetTimer(TimerReason.Handshake, _settings.HandshakeTimeoutMilliseconds);
    }

    public void OnReady(PollEvents events)
    {
        if (IsClosed) return;
        bool readable = (events & (PollEvents.Readable | PollEvents.HangUp | PollEvents.Error)) != 0;
        bool writable = (events & PollEvents.Writable) != 0;
        if (IsLingering)
        {
            if (writable) Flush();
            if (readable && !IsClosed) Discard();
        }
        else
        {
            switch (_phase)
            {
                case Phase.AwaitingHello:
                    if (readable) LookAtHello();
                    break;
                case Phase.Handshaking:
                    Handshake();
                    break;
                case Phase.Established:
                    if (writable && !_writeWantsRead) Flush();
                    if (!IsClosed && (readable || (writable && _readWantsWrite)))
                    {
                        _readWantsWrite = false;
                        if (_writeWantsRead)
                        {
                            _writeWantsRead = false;
                            Flush();
                        }
                        if (!IsClosed) ReceivePlaintext();
                    }
                    break;
            }
        }
        if (!IsClosed) Flush();
    }

    /// <summary>Looks at the first byte without taking it: a TLS handshake record goes to OpenSSL, anything else is refused.</summary>
    private void LookAtHello()
    {
        byte first;
        nint n = Libc.Recv(_fd, &first, 1, CommonConstants.MSG_PEEK);
        if (n == 0)
        {
            Close(); // closed before a hello
            return;
        }
        if (n < 0)
        {
            if (ErrnoInfo.Last() is not (Errno.EAGAIN or Errno.EINTR)) Close();
            return;
        }
        if (first != 0x16)
        {
            RefuseClearText(first);
            return;
        }
        _phase = Phase.Handshaking;
        Handshake();
    }

    /// <summary>The first bytes were not a TLS handshake record: text gets a short clear-text 400, anything else a close.</summary>
    private void RefuseClearText(byte first)
    {
        _phase = Phase.ClearTextRefused;
        if (first is >= (byte)'A' and <= (byte)'Z')
        {
            ReadOnlySpan<byte> reply = _settings.ClearTextReply.Span;
            reply.CopyTo(_clearText.GetSpan(Pool, reply.Length));
            _clearText.Advance(reply.Length);
            CloseWhenFlushed(Context.Settings.LingerMilliseconds);
        }
        else
        {
            Close();
        }
    }

    private void Handshake()
    {
        int result;
        t_handshaking = this;
        try
        {
            result = SslDoHandshake(_ssl);
        }
        finally
        {
            t_handshaking = null;
        }
        if (result == 1)
        {
            _phase = Phase.Established;
            ClearTimer();
            _startProtocol(this); // the protocol ALPN chose takes over (Start -> SetProtocol)
            if (!IsClosed) ReceivePlaintext(); // the request may have come with the client's Finished
            return;
        }
        switch (SslGetError(_ssl, result))
        {
            case SSL_ERROR_WANT_READ:
                _handshakeWantsWrite = false;
                break;
            case SSL_ERROR_WANT_WRITE:
                _handshakeWantsWrite = true;
                break;
            default:
                // OpenSSL already sent its alert, when the socket took it: it tells the client why.
                TlsLog.HandshakeFailed(Context.Logger, TakeErrors() ?? "the connection ended");
                Close();
                return;
        }
        RefreshSocketInterest();
    }

    /// <summary>Decrypts into Input and tells the protocol, while the protocol wants bytes and OpenSSL has them; the
    /// caller flushes afterwards.</summary>
    private void ReceivePlaintext()
    {
        _sessionHoldsInput = false;
        while (!IsClosed && !IsLingering)
        {
            if (!WantsRead)
            {
                _sessionHoldsInput = SslHasPending(_ssl) != 0;
                break;
            }
            Span<byte> space = Input.GetReadSpace(Pool);
            nuint read;
            int ok;
            fixed (byte* p = space)
            {
                ok = SslReadEx(_ssl, p, (nuint)space.Length, &read);
            }
            if (ok == 1)
            {
                OnReceived((int)read);
                if (SslHasPending(_ssl) == 0) break; // the socket reports the rest (level-triggered)
                continue;
            }
            if (!ReadFailed(SslGetError(_ssl, 0))) break;
        }
        // No interest change here: every caller flushes next, and the flush sets the interest once, after the
        // answer is sent (changing it now, with the answer still queued, would cost two epoll_ctl per request).
    }

    /// <summary>Handles an SSL_read that returned nothing; false when reading stops for now.</summary>
    private bool ReadFailed(int error)
    {
        switch (error)
        {
            case SSL_ERROR_WANT_READ:
                if (Input.IsEmpty && !KeepInputBuffer) Input.Release(Pool);
                return false;
            case SSL_ERROR_WANT_WRITE:
                _readWantsWrite = true;
                return false;
            case SSL_ERROR_ZERO_RETURN:
                OnReceivedEnd(); // close_notify, or the end of the stream (SSL_OP_IGNORE_UNEXPECTED_EOF)
                return false;
            default:
                Fail(); // a bad record, a reset
                return false;
        }
    }

    private void Fail()
    {
        if (IsClosed) return;
        TlsLog.ConnectionFailed(Context.Logger, TakeErrors() ?? $"socket error {ErrnoInfo.Last()}");
        Close();
    }

    protected override int Send()
    {
        int plaintext = 0;
        if (_phase == Phase.Established && !_writeWantsRead)
        {
            while (!Output.IsEmpty)
            {
                ReadOnlySpan<byte> chunk = Output.PendingSpan;
                nuint written;
                int ok;
                fixed (byte* p = chunk)
                {
                    ok = SslWriteEx(_ssl, p, (nuint)chunk.Length, &written);
                }
                if (ok == 1)
                {
                    Output.Consume((int)written, Pool);
                    plaintext += (int)written;
                    continue;
                }
                int error = SslGetError(_ssl, 0);
                if (error == SSL_ERROR_WANT_WRITE) break;
                if (error == SSL_ERROR_WANT_READ)
                {
                    _writeWantsRead = true;
                    break;
                }
                Fail(); // EPIPE, ECONNRESET: the peer is gone
                return plaintext;
            }
        }
        int raw = 0;
        if (!_clearText.IsEmpty)
        {
            raw = SocketCalls.Send(_fd, ref _clearText, Pool, out bool peerGone);
            if (peerGone)
            {
                Close();
                return raw;
            }
        }
        if (_shutdownPending) SendCloseNotify();
        return plaintext > 0 ? plaintext : raw;
    }

    /// <summary>
    /// Encrypts straight from the caller's memory (one broadcast frame for many connections), record by record, as
    /// far as the socket takes it. A record OpenSSL made but could not send waits inside OpenSSL for the same
    /// bytes to be written again: they are the start of what the caller then queues, and the next write retries
    /// with them (ACCEPT_MOVING_WRITE_BUFFER lets them come from the output queue).
    /// </summary>
    protected override int SendDirect(ReadOnlySpan<byte> data)
    {
        if (_phase != Phase.Established || _writeWantsRead) return 0;
        int total = 0;
        while (total < data.Length)
        {
            nuint written;
            int ok;
            fixed (byte* p = data[total..])
            {
                ok = SslWriteEx(_ssl, p, (nuint)(data.Length - total), &written);
            }
            if (ok == 1)
            {
                total += (int)written;
                continue;
            }
            int error = SslGetError(_ssl, 0);
            if (error == SSL_ERROR_WANT_READ) _writeWantsRead = true;
            else if (error != SSL_ERROR_WANT_WRITE) Fail(); // the peer is gone
            break;
        }
        return total;
    }

    /// <summary>All output is sent: say close_notify, then shut the write side once that record is out too.</summary>
    protected override void ShutdownWrite()
    {
        if (_phase == Phase.Established)
        {
            _shutdownPending = true;
            SendCloseNotify();
            return;
        }
        Libc.Shutdown(_fd, CommonConstants.SHUT_WR);
    }

    private void SendCloseNotify()
    {
        int result = SslShutdown(_ssl);
        if (result < 0 && SslGetError(_ssl, result) == SSL_ERROR_WANT_WRITE) return; // again when writable
        if (result < 0) ErrClearError(); // the session is already broken: just shut the socket
        _shutdownPending = false;
        Libc.Shutdown(_fd, CommonConstants.SHUT_WR);
    }

    private void Discard()
    {
        SocketCalls.DiscardResult result = SocketCalls.Discard(_fd);
        if (result == SocketCalls.DiscardResult.End) OnReceivedEnd();
        else if (result == SocketCalls.DiscardResult.Gone) Close();
    }

    protected override void CloseTransport()
    {
        SocketCalls.UnregisterAndClose(Context.Loop, _fd, _token);
        FreeSession();
        _clearText.Release(Pool);
    }

    private void FreeSession()
    {
        if (_ssl == 0) return;
        SslFree(_ssl);
        _ssl = 0;
    }

    protected override void InterestChanged()
    {
        if (IsClosed) return;
        if (_sessionHoldsInput && !_pumpPosted && WantsRead && !IsLingering)
        {
            // Reading was stopped while OpenSSL held bytes, and may go on: no socket event would announce them.
            // Pull them on the loop, outside whatever call changed the interest.
            _pumpPosted = true;
            Context.Loop.Post(static state =>
            {
                var transport = (OpenSslTransport)state!;
                transport._pumpPosted = false;
                if (transport.IsClosed) return;
                transport.ReceivePlaintext();
                if (!transport.IsClosed) transport.Flush();
            }, this);
        }
        RefreshSocketInterest();
    }

    private void RefreshSocketInterest()
    {
        if (IsClosed) return;
        PollInterest wanted = PollInterest.None;
        switch (_phase)
        {
            case Phase.AwaitingHello:
                wanted = PollInterest.Read;
                break;
            case Phase.Handshaking:
                wanted = _handshakeWantsWrite ? PollInterest.Write : PollInterest.Read;
                break;
            default:
                if (IsLingering || _writeWantsRead || (_phase == Phase.Established && WantsRead)) wanted |= PollInterest.Read;
                if (WantsWrite || _readWantsWrite) wanted |= PollInterest.Write;
                break;
        }
        if (wanted == _interest) return;
        _interest = wanted;
        Context.Loop.Modify(_fd, wanted, _token);
    }
}
