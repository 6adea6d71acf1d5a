using Snow.Native.Transport.Tls;

namespace Snow.Native.Transport;

/// <summary>
/// The bytes of one connection, whatever carries them: pooled input, queued output and its flush, whether to
/// read, the send stall, and the lingering close (the write side is shut only once the output queue has drained,
/// then whatever the peer still sends is read and dropped, so a last response is not destroyed by a reset). It
/// knows nothing of HTTP: a protocol (<see cref="IConnectionProtocol"/>) reads <see cref="Input"/>, appends to
/// <see cref="Output"/> and may hand the transport to another protocol. The kinds (a socket; TLS over a socket, by OpenSSL or SslStream;
/// an in-memory pipe) only move bytes. Loop thread only.
/// </summary>
internal abstract class ConnectionTransport
{
    /// <summary>Received bytes the protocol has not consumed yet.</summary>
    public InputBuffer Input;

    /// <summary>Bytes queued for the peer; sent by <see cref="Flush"/>.</summary>
    public OutputBuffer Output;

    private IConnectionProtocol? _protocol;
    private ConnectionTimer _timer;    // the protocol's
    private long _stallDue;            // while output waits for the peer
    private long _closeDue;            // a bound on closing: set by CloseWhenFlushed and by the linger
    private bool _waitingToSend;
    private bool _readingPaused;
    private bool _closeRequested;

    protected ConnectionTransport(TransportContext context)
    {
        Context = context;
    }

    protected TransportContext Context { get; }

    public BufferPool Pool => Context.Pool;

    public long Now => Context.Loop.NowMilliseconds;

    /// <summary>The loop this connection runs on (an upgraded protocol posts work from other threads to it).</summary>
    public Loop.EventLoop Loop => Context.Loop;

    public Microsoft.Extensions.Logging.ILogger Logger => Context.Logger;

    public IConnectionProtocol Protocol => _protocol!;

    /// <summary>The peer sent its end of stream: nothing more will arrive.</summary>
    public bool PeerClosed { get; private set; }

    public bool IsClosed { get; private set; }

    /// <summary>The write side is shut and the remaining input is being dropped until the peer closes.</summary>
    public bool IsLingering { get; private set; }

    public int OutputPending => Output.Pending;

    /// <summary>The TLS session under the protocol, or null on a plain connection.</summary>
    public virtual ITlsSession? Tls => null;

    /// <summary>So much output waits that the protocol should stop producing until some is sent.</summary>
    public bool IsOutputBlocked => Output.Pending >= Context.Settings.OutputHighWater;

    /// <summary>The protocol's timer (diagnostics and tests).</summary>
    public TimerReason TimerReason => _timer.Reason;

    /// <summary>Where this connection sits in its loop's list.</summary>
    internal int ListIndex { get; set; } = -1;

    /// <summary>
    /// Starts carrying <paramref name="protocol"/>: joins the loop's list and begins reading. A transport that
    /// negotiates before any protocol speaks (TLS) is started first with its own handshake as the protocol; the
    /// protocol it then chooses takes over through this call too.
    /// </summary>
    public void Start(IConnectionProtocol protocol)
    {
        if (_protocol is not null)
        {
            SetProtocol(protocol);
            return;
        }
        _protocol = protocol;
        Context.Add(this);
        try
        {
            Open();
        }
        catch
        {
            Context.Remove(this);
            throw;
        }
    }

    /// <summary>
    /// Hands the connection to another protocol (an upgrade). Its timer is cleared; input that arrived behind the
    /// old protocol's last message is still in <see cref="Input"/>, and the new protocol hears of it at once.
    /// </summary>
    public void SetProtocol(IConnectionProtocol protocol)
    {
        _protocol = protocol;
        _timer.Clear();
        ResumeReading();
        if (!Input.IsEmpty) protocol.OnInput();
        if (!IsClosed) Flush();
    }

    public void SetTimer(TimerReason reason, long milliseconds) => _timer.Set(reason, Now, milliseconds);

    /// <summary>Sets the protocol's timer to fire at <paramref name="due"/> (loop milliseconds).</summary>
    public void SetTimerAt(TimerReason reason, long due)
    {
        _timer.Reason = reason;
        _timer.Due = due;
        _timer.Duration = Math.Max(1, due - Now);
    }

    public void ClearTimer() => _timer.Clear();

    /// <summary>Stops reading until <see cref="ResumeReading"/> (back-pressure): the peer's sends then block in TCP.</summary>
    public void PauseReading()
    {
        if (_readingPaused) return;
        _readingPaused = true;
        InterestChanged();
    }

    public void ResumeReading()
    {
        if (!_readingPaused) return;
        _readingPaused = false;
        InterestChanged();
    }

    /// <summary>Keep the input buffer while it is empty: the protocol expects more at once (a streamed body).</summary>
    public bool KeepInputBuffer { get; set; }

    /// <summary>The protocol consumed input outside a read (room was made): reading may resume.</summary>
    public void RefreshInterest()
    {
        if (!IsClosed) InterestChanged();
    }

    /// <summary>
    /// Sends what is queued, as far as the peer takes it; whatever is left goes when the peer can take more. The
    /// protocol hears of every send that made progress, and may queue more then.
    /// </summary>
    public void Flush()
    {
        if (IsClosed) return;
        bool progressed = false;
        for (int round = 0; round < 4 && !SendQueueEmpty; round++)
        {
            int before = Output.Pending;
            int sent = Send();
            Context.CountSent(sent);
            if (IsClosed) return;
            if (sent == 0) break;
            progressed = true;
            Protocol.OnOutputSent();
            if (IsClosed) return;
            if (sent < before) break; // the peer's window is full: wait until it is writable again
        }
        TrackSendStall(progressed);
        if (SendQueueEmpty)
        {
            if (_closeRequested && !IsLingering)
            {
                BeginLinger();
                if (IsClosed) return;
            }
            if (Input.IsEmpty && !KeepInputBuffer) Input.Release(Pool); // all answered and sent: idle connections hold no buffer
        }
        InterestChanged();
    }

    /// <summary>
    /// Sends <paramref name="data"/> now, straight from the caller's memory, when nothing waits before it (one frame
    /// made for many connections goes out without a copy per connection); what the peer does not take now, or all
    /// of it when output is already queued, is queued behind that output and goes like any other.
    /// </summary>
    public void SendOrQueue(ReadOnlySpan<byte> data)
    {
        if (IsClosed || data.IsEmpty) return;
        if (SendQueueEmpty && !_closeRequested)
        {
            int sent = SendDirect(data);
            if (IsClosed) return;
            if (sent > 0)
            {
                Context.CountSent(sent);
                Protocol.OnOutputSent();
                if (IsClosed) return;
                data = data[sent..];
            }
            if (data.IsEmpty) return; // the queue was empty and still is: no interest or stall changes
        }
        data.CopyTo(Output.GetSpan(Pool, data.Length));
        Output.Advance(data.Length);
        Flush();
    }

    /// <summary>
    /// Closes once the queued output is sent (at most <paramref name="withinMilliseconds"/> from now, when given):
    /// then half-closes and drops the peer's remaining bytes until it closes too, or the linger timeout.
    /// Reading stops now and the unconsumed input is dropped.
    /// </summary>
    public void CloseWhenFlushed(long withinMilliseconds = 0)
    {
        if (IsClosed) return;
        _closeRequested = true;
        if (withinMilliseconds > 0) _closeDue = Now + withinMilliseconds;
        Input.Consume(Input.Length);
        if (SendQueueEmpty) BeginLinger();
        if (!IsClosed) InterestChanged();
    }

    /// <summary>Closes now: queued output is dropped.</summary>
    public void Close()
    {
        if (IsClosed) return;
        IsClosed = true;
        _timer.Clear();
        CloseTransport();
        Input.Release(Pool);
        Output.Release(Pool);
        Context.Remove(this);
        _protocol?.OnClosed();
    }

    /// <summary>The server is stopping.</summary>
    public void Shutdown()
    {
        if (IsClosed) return;
        Protocol.OnShutdown();
        if (!IsClosed) Flush();
    }

    /// <summary>Called by the loop's heartbeat about once a second.</summary>
    internal void OnHeartbeat(long now)
    {
        if (IsClosed) return;
        if (_closeDue != 0 && now >= _closeDue)
        {
            Close(); // the linger, or the time allowed to send a last response, is over
            return;
        }
        if (_waitingToSend)
        {
            if (now >= _stallDue) Close(); // the peer stopped taking what is sent to it
            return;
        }
        if (_closeRequested || !_timer.IsRunning || now < _timer.Due) return;
        TimerReason reason = _timer.Reason;
        _timer.Clear();
        Protocol.OnTimeout(reason);
        Flush();
    }

    // ---- What the kinds of transport implement, and call. ----

    /// <summary>Begins moving bytes (registers with the loop, for a socket).</summary>
    protected abstract void Open();

    /// <summary>Sends as much of <see cref="Output"/> as the peer takes now, consuming it; the byte count sent.
    /// Closes the transport when the peer is gone.</summary>
    protected abstract int Send();

    /// <summary>Sends from <paramref name="data"/> as much as the peer takes now, with nothing queued before it; the
    /// byte count sent. Closes the transport when the peer is gone. A kind that cannot send without its queue
    /// (TLS makes records of it) sends nothing here, and the data is queued instead.</summary>
    protected virtual int SendDirect(ReadOnlySpan<byte> data) => 0;

    /// <summary>Shuts the write side (the output queue is empty).</summary>
    protected abstract void ShutdownWrite();

    /// <summary>Releases what carries the bytes (the socket).</summary>
    protected abstract void CloseTransport();

    /// <summary>What the transport should wait for changed: see <see cref="WantsRead"/> and <see cref="WantsWrite"/>.</summary>
    protected abstract void InterestChanged();

    protected bool WantsRead => !IsClosed && !PeerClosed && (IsLingering || (!_closeRequested && !_readingPaused && !Input.IsFull));

    protected bool WantsWrite => !IsClosed && !SendQueueEmpty;

    /// <summary>Bytes the kind queued below <see cref="Output"/> and has not sent yet (TLS records).</summary>
    protected virtual bool HasQueuedRecords => false;

    /// <summary>Nothing at all waits to be sent: neither the protocol's output nor records made of it.</summary>
    private bool SendQueueEmpty => Output.IsEmpty && !HasQueuedRecords;

    /// <summary>The kind read <paramref name="count"/> bytes into <see cref="Input"/>.</summary>
    protected void OnReceived(int count)
    {
        Context.CountReceived(count);
        if (IsLingering || _closeRequested)
        {
            Input.Consume(Input.Length); // dropped: nothing after the last response is read
            return;
        }
        Input.Advance(count);
        Protocol.OnInput();
    }

    /// <summary>The kind read the end of the stream.</summary>
    protected void OnReceivedEnd()
    {
        if (PeerClosed) return;
        PeerClosed = true;
        if (IsLingering)
        {
            Close();
            return;
        }
        Protocol.OnPeerClosed();
        if (!IsClosed) InterestChanged();
    }

    private void TrackSendStall(bool progressed)
    {
        if (!SendQueueEmpty)
        {
            if (progressed || !_waitingToSend) _stallDue = Now + Context.Settings.SendStallMilliseconds;
            _waitingToSend = true;
            return;
        }
        if (!_waitingToSend) return;
        _waitingToSend = false;
        _timer.Restart(Now); // the protocol's wait starts again now that nothing waits for the peer
    }

    private void BeginLinger()
    {
        if (PeerClosed)
        {
            Close();
            return;
        }
        ShutdownWrite();
        if (IsClosed) return;
        IsLingering = true;
        _closeDue = Now + Context.Settings.LingerMilliseconds;
    }
}
