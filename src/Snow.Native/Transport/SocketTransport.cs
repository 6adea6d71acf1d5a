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

    private unsafe void Discard()
    {
        byte* scratch = stackalloc byte[512];
        nint n = Libc.Recv(_fd, scratch, 512, 0);
        if (n > 0) return;
        if (n < 0 && ErrnoInfo.Last() is Errno.EAGAIN or Errno.EINTR) return;
        if (n == 0) OnReceivedEnd();
        else Close();
    }

    protected override int Send()
    {
        int total = 0;
        while (!Output.IsEmpty)
        {
            nint sent = Libc.SendNoSignal(_fd, Output.PendingSpan);
            if (sent > 0)
            {
                Output.Consume((int)sent, Pool);
                total += (int)sent;
                continue;
            }
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) continue;
            if (errno == Errno.EAGAIN) break;
            Close(); // EPIPE, ECONNRESET: the peer is gone
            return total;
        }
        return total;
    }

    protected override void ShutdownWrite() => Libc.Shutdown(_fd, CommonConstants.SHUT_WR);

    protected override void CloseTransport()
    {
        try
        {
            Context.Loop.Unregister(_fd, _token);
        }
        catch (Exception e) when (e is InvalidOperationException or ErrnoException)
        {
            // not registered any more
        }
        Libc.Close(_fd);
    }

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
