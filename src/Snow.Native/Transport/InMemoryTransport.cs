namespace Snow.Native.Transport;

/// <summary>
/// A connection with no socket: the peer is code on the loop thread that feeds bytes in (in any split) and takes
/// what the protocol sent. Tests use it to drive a protocol byte by byte with a manual clock; the peer's window
/// can be closed to make output wait, as a slow client would.
/// </summary>
internal sealed class InMemoryTransport : ConnectionTransport
{
    private readonly List<byte> _sent = new();
    private bool _writeShut;

    public InMemoryTransport(TransportContext context)
        : base(context)
    {
    }

    /// <summary>Whether the peer takes output now; false makes it queue.</summary>
    public bool PeerAcceptsOutput { get; set; } = true;

    /// <summary>Bytes the peer takes before its window closes (then nothing until this is raised); unbounded by default.</summary>
    public long PeerWindow { get; set; } = long.MaxValue;

    /// <summary>Sends that went straight from the caller's memory (<see cref="ConnectionTransport.SendOrQueue"/>), not through the queue.</summary>
    public int DirectSends { get; private set; }

    /// <summary>The transport shut its write side (the lingering close began).</summary>
    public bool WriteShut => _writeShut;

    /// <summary>What the protocol would read now (false while reading is paused, closed, or the input is full).</summary>
    public bool Reading => WantsRead;

    /// <summary>Delivers bytes from the peer as reads of at most the free room each, as a socket would.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        int taken = FeedWhileReading(data);
        // Once lingering or closed the rest is dropped, as the socket transport drops it.
        if (taken < data.Length && !IsClosed && !IsLingering)
        {
            throw new InvalidOperationException("The transport is not reading: the protocol paused it, or its input is full.");
        }
    }

    /// <summary>Feeds as much of <paramref name="data"/> as the transport reads now; the count taken.</summary>
    public int FeedWhileReading(ReadOnlySpan<byte> data)
    {
        int taken = 0;
        while (taken < data.Length && WantsRead && !IsLingering)
        {
            Span<byte> space = Input.GetReadSpace(Pool);
            int count = Math.Min(space.Length, data.Length - taken);
            data.Slice(taken, count).CopyTo(space);
            taken += count;
            OnReceived(count);
            Flush();
        }
        return taken;
    }

    /// <summary>The peer sends its end of stream.</summary>
    public void FeedEnd()
    {
        OnReceivedEnd();
        if (!IsClosed) Flush();
    }

    /// <summary>Takes everything sent so far.</summary>
    public byte[] TakeSent()
    {
        if (PeerAcceptsOutput) Flush();
        byte[] sent = _sent.ToArray();
        _sent.Clear();
        _sent.Capacity = 0; // a peer that took its bytes holds none (memory tests count what a connection keeps)
        return sent;
    }

    protected override void Open()
    {
    }

    protected override int Send()
    {
        int count = Take(Output.PendingSpan);
        if (count > 0) Output.Consume(count, Pool);
        return count;
    }

    protected override int SendDirect(ReadOnlySpan<byte> data)
    {
        int count = Take(data);
        if (count > 0) DirectSends++;
        return count;
    }

    /// <summary>What the peer takes of <paramref name="data"/> now, within its window.</summary>
    private int Take(ReadOnlySpan<byte> data)
    {
        if (!PeerAcceptsOutput) return 0;
        int count = (int)Math.Min(data.Length, PeerWindow);
        foreach (byte b in data[..count]) _sent.Add(b);
        if (PeerWindow != long.MaxValue) PeerWindow -= count;
        return count;
    }

    protected override void ShutdownWrite() => _writeShut = true;

    protected override void CloseTransport()
    {
    }

    protected override void InterestChanged()
    {
    }
}
