using Snow.Native.Interop;
using Snow.Native.Loop;

namespace Snow.Native.Transport;

/// <summary>The socket calls every socket-carried transport makes the same way (plain and TLS).</summary>
internal static class SocketCalls
{
    /// <summary>What a read of bytes to drop found.</summary>
    public enum DiscardResult : byte
    {
        /// <summary>Bytes were dropped, or none are waiting yet.</summary>
        More,
        /// <summary>The peer finished sending.</summary>
        End,
        /// <summary>The peer is gone (a reset).</summary>
        Gone,
    }

    /// <summary>Reads and drops what the peer sent (a lingering close reads nothing more for the protocol).</summary>
    public static unsafe DiscardResult Discard(int fd)
    {
        byte* scratch = stackalloc byte[512];
        nint n = Libc.Recv(fd, scratch, 512, 0);
        if (n > 0) return DiscardResult.More;
        if (n == 0) return DiscardResult.End;
        return ErrnoInfo.Last() is Errno.EAGAIN or Errno.EINTR ? DiscardResult.More : DiscardResult.Gone;
    }

    /// <summary>
    /// Sends from <paramref name="queue"/> until it is empty or the socket is full; the byte count sent.
    /// <paramref name="peerGone"/> is set on EPIPE, ECONNRESET and the like.
    /// </summary>
    public static int Send(int fd, ref OutputBuffer queue, BufferPool pool, out bool peerGone)
    {
        peerGone = false;
        int total = 0;
        while (!queue.IsEmpty)
        {
            nint sent = Libc.SendNoSignal(fd, queue.PendingSpan);
            if (sent > 0)
            {
                queue.Consume((int)sent, pool);
                total += (int)sent;
                continue;
            }
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) continue;
            if (errno == Errno.EAGAIN) break;
            peerGone = true;
            break;
        }
        return total;
    }

    /// <summary>Sends from <paramref name="data"/> until all is sent or the socket is full; the byte count sent.</summary>
    public static int Send(int fd, ReadOnlySpan<byte> data, out bool peerGone)
    {
        peerGone = false;
        int total = 0;
        while (total < data.Length)
        {
            nint sent = Libc.SendNoSignal(fd, data[total..]);
            if (sent > 0)
            {
                total += (int)sent;
                continue;
            }
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) continue;
            if (errno != Errno.EAGAIN) peerGone = true;
            break;
        }
        return total;
    }

    /// <summary>Takes the socket out of the loop's poller (if it is still in) and closes it.</summary>
    public static void UnregisterAndClose(EventLoop loop, int fd, long token)
    {
        try
        {
            loop.Unregister(fd, token);
        }
        catch (Exception e) when (e is InvalidOperationException or ErrnoException)
        {
            // not registered any more
        }
        Libc.Close(fd);
    }
}
