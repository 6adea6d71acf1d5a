namespace Snow.Native.Transport;

/// <summary>What is at the other end of a <see cref="PipeTransport"/>: code in this process (the test client).</summary>
internal interface ITransportPeer
{
    /// <summary>Bytes the protocol sent (loop thread; the span is valid during the call only).</summary>
    void OnSent(ReadOnlySpan<byte> bytes);

    /// <summary>The transport shut its write side: nothing more will be sent (loop thread).</summary>
    void OnWriteShut();

    /// <summary>The transport closed (loop thread).</summary>
    void OnClosed();
}

/// <summary>
/// A connection with no socket whose peer is code in the same process, on any thread: the peer posts its bytes to
/// the loop (<see cref="Feed"/>), and what the protocol sends goes to the peer as it is sent. Bytes the protocol
/// is not reading yet (it paused for back-pressure, or its input is full) wait here and are fed when reading
/// resumes, as a socket's would wait in the kernel. Loop thread only, except where said.
/// </summary>
internal sealed class PipeTransport : ConnectionTransport
{
    private readonly ITransportPeer _peer;
    private readonly Queue<byte[]> _waiting = new();
    private int _waitingOffset;
    private bool _endWaiting;
    private bool _pumpPosted;

    public PipeTransport(TransportContext context, ITransportPeer peer)
        : base(context)
    {
        _peer = peer;
    }

    /// <summary>Delivers bytes from the peer: read now as far as the protocol takes them, the rest when it reads again.</summary>
    public void Feed(byte[] data)
    {
        if (IsClosed || data.Length == 0) return;
        _waiting.Enqueue(data);
        Pump();
    }

    /// <summary>The peer's end of stream, after whatever it fed before.</summary>
    public void FeedEnd()
    {
        if (IsClosed) return;
        _endWaiting = true;
        Pump();
    }

    /// <summary>Any thread: runs <paramref name="action"/> on this transport's loop.</summary>
    public void Post(Action<PipeTransport> action) =>
        Context.Loop.Post(static state =>
        {
            var (transport, work) = ((PipeTransport, Action<PipeTransport>))state!;
            work(transport);
        }, (this, action));

    private void Pump()
    {
        while (_waiting.Count > 0 && !IsClosed && WantsRead)
        {
            byte[] data = _waiting.Peek();
            Span<byte> space = Input.GetReadSpace(Pool);
            int count = Math.Min(space.Length, data.Length - _waitingOffset);
            data.AsSpan(_waitingOffset, count).CopyTo(space);
            _waitingOffset += count;
            if (_waitingOffset == data.Length)
            {
                _waiting.Dequeue();
                _waitingOffset = 0;
            }
            OnReceived(count);
        }
        if (_endWaiting && _waiting.Count == 0 && !IsClosed)
        {
            _endWaiting = false;
            OnReceivedEnd();
        }
        if (!IsClosed) Flush();
    }

    protected override void Open()
    {
    }

    protected override int Send()
    {
        int count = Output.Pending;
        _peer.OnSent(Output.PendingSpan);
        Output.Consume(count, Pool);
        return count;
    }

    protected override void ShutdownWrite() => _peer.OnWriteShut();

    protected override void CloseTransport()
    {
        _waiting.Clear();
        _peer.OnClosed();
    }

    protected override void InterestChanged()
    {
        // Reading may have resumed with bytes waiting: feed them from the loop, not from inside the protocol's call.
        if (_pumpPosted || IsClosed || !WantsRead || (_waiting.Count == 0 && !_endWaiting)) return;
        _pumpPosted = true;
        Context.Loop.Post(static state =>
        {
            var transport = (PipeTransport)state!;
            transport._pumpPosted = false;
            transport.Pump();
        }, this);
    }
}
