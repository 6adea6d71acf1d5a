using System.Buffers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// A connection's bytes through TLS over a non-blocking socket. The protocol above sees plaintext in
/// <see cref="ConnectionTransport.Input"/> and writes plaintext to <see cref="ConnectionTransport.Output"/>, as on a
/// plain socket. Underneath, the runtime's TLS engine (<see cref="SslStream"/>: OpenSSL on Linux) reads records
/// from what this transport read off the socket and writes records for it to send (<see cref="TlsRecordStream"/>),
/// all on the loop thread, without blocking and without a thread per connection.
/// <para>
/// TLS readiness is not socket readiness: plaintext may wait decrypted inside the engine while the socket has
/// nothing new, and the socket may have bytes that make no whole record yet. So the socket is read only while the
/// engine waits for records, and plaintext is pulled from the engine by a zero-byte read (which holds no buffer)
/// followed by a read into Input that the engine answers from what it already decrypted. An idle connection
/// therefore holds no TLS buffer: the engine returns its own once empty, and so does this transport.
/// </para>
/// Before any protocol speaks, the transport is its own protocol: the handshake, with its time limit. Then the
/// endpoint's callback chooses the protocol (by ALPN) and it takes over.
/// </summary>
internal sealed class TlsTransport : HandshakingTransport, IReadinessHandler, ITlsSession
{
    private const int RecordReadSize = 16 * 1024 + 512; // one whole TLS record per read
    private const int PlaintextPerRecord = 16 * 1024;   // the largest record
    private const int RecordsHighWater = 64 * 1024;     // encrypt no further ahead of the socket than this

    private readonly int _fd;
    private readonly TlsServerSettings _settings;
    private readonly Action<ConnectionTransport> _startProtocol;
    private readonly TlsRecordStream _records;
    private readonly SslStream _engine;
    private readonly Action _onPlaintextReady;
    private long _token;
    private PollInterest _interest;

    private byte[]? _recordsIn;          // ciphertext read off the socket, not yet taken by the engine
    private int _recordsInStart;
    private int _recordsInEnd;
    private OutputBuffer _recordsOut;    // records the engine wrote, not yet sent
    private bool _recordsEnded;          // the socket reached its end

    private Phase _phase;
    private bool _pumping;
    private bool _pumpPosted;
    private bool _plaintextWaitPending;
    private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _plaintextWait;
    private bool _shutdownWhenSent;
    private bool _sawBytes;
    private bool _interestDeferred;      // inside OnReady, whose last flush sets the interest

    private enum Phase : byte
    {
        Handshaking,
        Established,
        ClearTextRefused,
    }

    public TlsTransport(TransportContext context, int fd, TlsServerSettings settings, Action<ConnectionTransport> startProtocol)
        : base(context)
    {
        _fd = fd;
        _settings = settings;
        _startProtocol = startProtocol;
        _records = new TlsRecordStream(this);
        _engine = new SslStream(_records, leaveInnerStreamOpen: true);
        _onPlaintextReady = OnPlaintextReady;
    }

    /// <summary>Registers the socket and begins the handshake, the transport being its own protocol until it is done.</summary>
    public void Start() => Start(this);

    public override ITlsSession? Tls => _phase == Phase.Established ? this : null;

    // ---- ITlsSession ----

    public X509Certificate2? ClientCertificate => _engine.RemoteCertificate as X509Certificate2;

    public SslProtocols SslProtocol => _engine.SslProtocol;

    public SslApplicationProtocol ApplicationProtocol => _engine.NegotiatedApplicationProtocol;

    public string HostName => _engine.TargetHostName;

    // ---- The engine's side (TlsRecordStream) ----

    internal int CipherAvailable => _recordsInEnd - _recordsInStart;

    internal bool CipherEnded => _recordsEnded;

    internal int TakeCipher(Span<byte> destination)
    {
        int count = Math.Min(destination.Length, _recordsInEnd - _recordsInStart);
        _recordsIn.AsSpan(_recordsInStart, count).CopyTo(destination);
        _recordsInStart += count;
        if (_recordsInStart == _recordsInEnd) ReleaseRecordsIn();
        return count;
    }

    internal void QueueCipher(ReadOnlySpan<byte> records)
    {
        if (IsClosed) return;
        records.CopyTo(_recordsOut.GetSpan(Pool, records.Length));
        _recordsOut.Advance(records.Length);
    }

    internal void EngineWaitsForRecords() => RefreshSocketInterest();

    // ---- The transport ----

    protected override bool HasQueuedRecords => !_recordsOut.IsEmpty;

    protected override void Open()
    {
        _interest = PollInterest.Read;
        _token = Context.Loop.Register(_fd, _interest, this);
        SetTimer(TimerReason.Handshake, _settings.HandshakeTimeoutMilliseconds);
        Task handshake = _engine.AuthenticateAsServerAsync(_settings.SelectOptions, _settings.SelectState, CancellationToken.None);
        if (handshake.IsCompleted) OnHandshakeDone(handshake);
        else handshake.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => OnHandshakeDone(handshake));
    }

    public void OnReady(PollEvents events)
    {
        if (IsClosed) return;
        // The interest is set once, by the last flush: set while an answer is still queued (when the engine asks
        // for records again), it would flap to Read|Write and back, two epoll_ctl per request.
        _interestDeferred = true;
        try
        {
            if ((events & PollEvents.Writable) != 0)
            {
                Flush();
                if (IsClosed) return;
            }
            if ((events & (PollEvents.Readable | PollEvents.HangUp | PollEvents.Error)) != 0)
            {
                if (IsLingering) Discard();
                else if (_phase != Phase.ClearTextRefused && _records.ReadPending) ReceiveRecords();
                if (IsClosed) return;
            }
        }
        finally
        {
            _interestDeferred = false;
        }
        Flush();
    }

    private unsafe void ReceiveRecords()
    {
        if (_recordsIn is null)
        {
            _recordsIn = ArrayPool<byte>.Shared.Rent(RecordReadSize);
            _recordsInStart = _recordsInEnd = 0;
        }
        else if (_recordsInStart > 0)
        {
            int pending = _recordsInEnd - _recordsInStart;
            _recordsIn.AsSpan(_recordsInStart, pending).CopyTo(_recordsIn);
            _recordsInStart = 0;
            _recordsInEnd = pending;
        }
        Span<byte> space = _recordsIn.AsSpan(_recordsInEnd);
        nint n;
        fixed (byte* p = space)
        {
            n = Libc.Recv(_fd, p, (nuint)space.Length, 0);
        }
        if (n > 0)
        {
            bool first = _phase == Phase.Handshaking && _recordsInEnd == 0 && _recordsInStart == 0 && !_sawBytes;
            _sawBytes = true;
            _recordsInEnd += (int)n;
            if (first && _recordsIn[0] != 0x16)
            {
                RefuseClearText(_recordsIn[0]);
                return;
            }
            _records.OnBytesArrived(); // the engine goes on, inline, as far as these bytes take it
            return;
        }
        if (n == 0)
        {
            _recordsEnded = true;
            ReleaseRecordsIn();
            _records.OnBytesArrived();
            return;
        }
        Errno errno = ErrnoInfo.Last();
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            if (_recordsInStart == _recordsInEnd) ReleaseRecordsIn();
            return;
        }
        Close(); // ECONNRESET and friends: the peer is gone
    }

    /// <summary>The first bytes were not a TLS handshake record: text gets a short clear-text 400, anything else a close.</summary>
    private void RefuseClearText(byte first)
    {
        _phase = Phase.ClearTextRefused;
        ReleaseRecordsIn();
        if (first is >= (byte)'A' and <= (byte)'Z')
        {
            QueueCipher(_settings.ClearTextReply.Span);
            CloseWhenFlushed(Context.Settings.LingerMilliseconds);
        }
        else
        {
            Close();
        }
    }

    private void Discard()
    {
        SocketCalls.DiscardResult result = SocketCalls.Discard(_fd);
        if (result == SocketCalls.DiscardResult.End) OnReceivedEnd();
        else if (result == SocketCalls.DiscardResult.Gone) Close();
    }

    private void OnHandshakeDone(Task handshake)
    {
        if (!Context.Loop.IsOnLoopThread)
        {
            Context.Loop.Post(static state =>
            {
                var (transport, task) = ((TlsTransport, Task))state!;
                transport.OnHandshakeDone(task);
            }, (this, handshake));
            return;
        }
        Exception? failure = handshake.Exception?.GetBaseException(); // observed in every case
        if (IsClosed || _phase != Phase.Handshaking) return;
        if (!handshake.IsCompletedSuccessfully)
        {
            TlsLog.HandshakeFailed(Context.Logger, failure?.Message ?? "canceled");
            SendRecords(); // the engine's alert, when it wrote one, tells the client why (one try: it is closing anyway)
            Close();
            return;
        }
        _phase = Phase.Established;
        ClearTimer();
        _startProtocol(this); // the protocol ALPN chose takes over (Start -> SetProtocol)
        if (IsClosed) return;
        PumpPlaintext();
        Flush();
    }

    /// <summary>
    /// Moves decrypted bytes from the engine into Input, for the protocol, while the protocol wants them; leaves a
    /// zero-byte read waiting in the engine when it has none, which completes when records arrive.
    /// </summary>
    private void PumpPlaintext()
    {
        if (_pumping || _plaintextWaitPending || IsClosed || _phase != Phase.Established) return;
        _pumping = true;
        try
        {
            while (!IsClosed && WantsRead && !IsLingering)
            {
                ValueTask<int> wait;
                try
                {
                    wait = _engine.ReadAsync(Memory<byte>.Empty);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
                {
                    Fail(e);
                    return;
                }
                if (!wait.IsCompleted)
                {
                    _plaintextWaitPending = true;
                    _plaintextWait = wait.ConfigureAwait(false).GetAwaiter();
                    _plaintextWait.UnsafeOnCompleted(_onPlaintextReady);
                    break;
                }
                if (!Completed(wait) || !ReadPlaintext()) return;
            }
        }
        finally
        {
            _pumping = false;
        }
        RefreshSocketInterest();
    }

    private void OnPlaintextReady()
    {
        if (!Context.Loop.IsOnLoopThread)
        {
            Context.Loop.Post(static state => ((TlsTransport)state!).OnPlaintextReady(), this);
            return;
        }
        _plaintextWaitPending = false;
        ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter wait = _plaintextWait;
        _plaintextWait = default;
        try
        {
            wait.GetResult();
        }
        catch (Exception e)
        {
            Fail(e);
            return;
        }
        if (IsClosed) return;
        if (WantsRead && !ReadPlaintext()) return;
        PumpPlaintext();
    }

    private bool Completed(ValueTask<int> wait)
    {
        try
        {
            wait.GetAwaiter().GetResult();
            return true;
        }
        catch (Exception e)
        {
            Fail(e);
            return false;
        }
    }

    /// <summary>Takes what the engine decrypted into Input and tells the protocol; false once nothing more can be read.</summary>
    private bool ReadPlaintext()
    {
        Memory<byte> space = Input.GetReadMemory(Pool);
        int n;
        try
        {
            ValueTask<int> read = _engine.ReadAsync(space);
            if (!read.IsCompleted)
            {
                // Cannot happen: the zero-byte read completed, so the engine holds decrypted bytes or the end.
                // Waiting here would leave the engine holding Input's memory; give up the connection instead.
                TlsLog.EngineStalled(Context.Logger);
                Close();
                return false;
            }
            n = read.GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            Fail(e);
            return false;
        }
        if (n == 0)
        {
            OnReceivedEnd(); // close_notify or the end of the stream
            return false;
        }
        OnReceived(n);
        return !IsClosed;
    }

    private void Fail(Exception e)
    {
        if (IsClosed) return;
        TlsLog.ConnectionFailed(Context.Logger, e.Message);
        Close();
    }

    protected override int Send()
    {
        int plaintext = 0;
        if (_phase == Phase.Established)
        {
            while (!Output.IsEmpty && _recordsOut.Pending < RecordsHighWater)
            {
                ReadOnlyMemory<byte> chunk = Output.PendingMemory;
                if (chunk.Length > PlaintextPerRecord) chunk = chunk[..PlaintextPerRecord];
                try
                {
                    ValueTask write = _engine.WriteAsync(chunk);
                    if (!write.IsCompletedSuccessfully) write.GetAwaiter().GetResult(); // faulted: throws; the records stream never waits
                }
                catch (Exception e)
                {
                    Fail(e);
                    return plaintext;
                }
                Output.Consume(chunk.Length, Pool);
                plaintext += chunk.Length;
            }
        }
        int sent = SendRecords();
        if (IsClosed) return plaintext;
        if (_shutdownWhenSent && _recordsOut.IsEmpty)
        {
            _shutdownWhenSent = false;
            Libc.Shutdown(_fd, CommonConstants.SHUT_WR);
        }
        return plaintext > 0 ? plaintext : sent;
    }

    private int SendRecords()
    {
        int sent = SocketCalls.Send(_fd, ref _recordsOut, Pool, out bool peerGone);
        if (peerGone) Close(); // EPIPE, ECONNRESET: the peer is gone
        return sent;
    }

    /// <summary>All output is sent: say close_notify, then shut the write side once that record is out too.</summary>
    protected override void ShutdownWrite()
    {
        if (_phase == Phase.Established)
        {
            try
            {
                _ = _engine.ShutdownAsync(); // writes the alert into the records queue, synchronously
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // the session is already broken: just shut the socket
            }
        }
        SendRecords();
        if (IsClosed) return;
        if (_recordsOut.IsEmpty) Libc.Shutdown(_fd, CommonConstants.SHUT_WR);
        else _shutdownWhenSent = true;
    }

    protected override void CloseTransport()
    {
        SocketCalls.UnregisterAndClose(Context.Loop, _fd, _token);
        _records.OnClosed();   // a read the engine left waiting ends (as the end of the stream), before the engine goes
        _engine.Dispose();
        ReleaseRecordsIn();
        _recordsOut.Release(Pool);
    }

    protected override void InterestChanged()
    {
        if (IsClosed) return;
        if (_phase == Phase.Established && !_pumping && !_plaintextWaitPending && !_pumpPosted && WantsRead && !IsLingering)
        {
            // Reading was paused or Input was full, and is possible again: the engine may already hold plaintext,
            // which no socket event would announce. Pull it on the loop, outside whatever call changed the interest.
            _pumpPosted = true;
            Context.Loop.Post(static state =>
            {
                var transport = (TlsTransport)state!;
                transport._pumpPosted = false;
                transport.PumpPlaintext();
                if (!transport.IsClosed) transport.Flush();
            }, this);
        }
        RefreshSocketInterest();
    }

    private void RefreshSocketInterest()
    {
        if (IsClosed || _interestDeferred) return;
        PollInterest wanted = PollInterest.None;
        if (IsLingering || (_phase != Phase.ClearTextRefused && _records.ReadPending && !PeerClosed)) wanted |= PollInterest.Read;
        if (WantsWrite) wanted |= PollInterest.Write;
        if (wanted == _interest) return;
        _interest = wanted;
        Context.Loop.Modify(_fd, wanted, _token);
    }

    private void ReleaseRecordsIn()
    {
        if (_recordsIn is null) return;
        ArrayPool<byte>.Shared.Return(_recordsIn);
        _recordsIn = null;
        _recordsInStart = _recordsInEnd = 0;
    }
}
