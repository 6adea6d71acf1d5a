using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;

namespace Snow.Native.Transport;

/// <summary>
/// A connection's bytes over a non-blocking socket, driven by level-triggered readiness: one read per wake-up
/// (the poller reports the socket again while more is waiting), sends until the socket's buffer is full.
/// </summary>
internal sealed class SocketTransport : ConnectionTransport, IReadinessHandler
{
    private readonly int _fd;
    private long _token;
    private PollInterest _interest;

    public SocketTransport(TransportContext context, int fd)
        : base(context)
    {
        _fd = fd;
    }

    protected override void Open()
    {
        _interest = PollInterest.Read;
        _token = Context.Loop.Register(_fd, _interest, this);
    }

    public void OnReady(PollEvents events)
    {
        if (IsClosed) return;
        if ((events & PollEvents.Writable) != 0)
        {
            Flush();
            if (IsClosed) return;
        }
        if ((events & (PollEvents.Readable | PollEvents.HangUp | PollEvents.Error)) != 0)
        {
            if (IsLingering) Discard();
            else if (WantsRead) Receive();
            if (IsClosed) return;
        }
        Flush();
    }

    private unsafe void Receive()
    {
        Span<byte> space = Input.GetReadSpace(Pool);
        nint n;
        fixed (byte* p = space)
        {
            n = Libc.Recv(_fd, p, (nuint)space.Length, 0);
        }
        if (n > 0)
        {
            OnReceived((int)n);
            return;
        }
        if (n == 0)
        {
            OnReceivedEnd();
            return;
        }
        Errno errno = ErrnoInfo.Last();
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            if (Input.IsEmpty && !KeepInputBuffer) Input.Release(Pool);
            return;
        }
        Close(); // ECONNRESET and friends: the peer is gone
    }

    private void Discard()
    {
        SocketCalls.DiscardResult result = SocketCalls.Discard(_fd);
        if (result == SocketCalls.DiscardResult.End) OnReceivedEnd();
        else if (result == SocketCalls.DiscardResult.Gone) Close();
    }

    protected override int Send()
    {
        int sent = SocketCalls.Send(_fd, ref Output, Pool, out bool peerGone);
        if (peerGone) Close(); // EPIPE, ECONNRESET: the peer is gone
        return sent;
    }

    protected override int SendDirect(ReadOnlySpan<byte> data)
    {
        int sent = SocketCalls.Send(_fd, data, out bool peerGone);
        if (peerGone) Close();
        return sent;
    }

    protected override void ShutdownWrite() => Libc.Shutdown(_fd, CommonConstants.SHUT_WR);

    protected override void CloseTransport() => SocketCalls.UnregisterAndClose(Context.Loop, _fd, _token);

    protected override void InterestChanged()
    {
        if (IsClosed) return;
        PollInterest wanted = PollInterest.None;
        if (WantsRead) wanted |= PollInterest.Read;
        if (WantsWrite) wanted |= PollInterest.Write;
        if (wanted == _interest) return;
        _interest = wanted;
        Context.Loop.Modify(_fd, wanted, _token);
    }
}
