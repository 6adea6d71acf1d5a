using Snow.Native.Interop;

namespace Snow.Native.Polling;

/// <summary>
/// The portable fallback on select(2). It keeps master read and write sets and copies them into each call, so
/// registration costs no system call. It holds descriptors below FD_SETSIZE (1024) only and refuses others:
/// FD_SET on a larger fd would write past the set. The waker is a non-blocking pipe.
/// </summary>
internal sealed unsafe class SelectPoller : IPoller
{
    private const long WakerToken = -1;

    private readonly long[] _tokens = new long[FdSet.Capacity];
    private readonly PollInterest[] _interests = new PollInterest[FdSet.Capacity];
    private FdSet _readMaster;
    private FdSet _writeMaster;
    private int _highestFd = -1;
    private readonly int _wakeReadFd;
    private readonly int _wakeWriteFd;
    private int _wakePending;
    private int _disposed;

    public SelectPoller()
    {
        (_wakeReadFd, _wakeWriteFd) = Libc.CreateNonBlockingPipe();
        if (_wakeReadFd >= FdSet.Capacity)
        {
            Libc.Close(_wakeReadFd);
            Libc.Close(_wakeWriteFd);
            throw new InvalidOperationException(
                $"The select poller's own pipe got fd {_wakeReadFd}, beyond FD_SETSIZE ({FdSet.Capacity}): too many files are open for select; use epoll or kqueue.");
        }
        Add(_wakeReadFd, PollInterest.Read, WakerToken);
    }

    public string Name => "select";

    public PollerKind Kind => PollerKind.Select;

    public bool ReportsHangUp => false;

    /// <summary>Descriptors this poller can hold: 0 to FD_SETSIZE - 1.</summary>
    public static int MaxDescriptor => FdSet.Capacity - 1;

    public void Register(int fd, PollInterest interest, long token)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CheckFd(fd);
        if (token == WakerToken) throw new ArgumentOutOfRangeException(nameof(token), "Token -1 is reserved for the poller's waker.");
        if (_interests[fd] != PollInterest.None || fd == _wakeReadFd)
        {
            throw new InvalidOperationException($"fd {fd} is already registered with this poller.");
        }
        if (interest == PollInterest.None)
        {
            throw new ArgumentException("Register with Read, Write or both; use Unregister to stop watching.", nameof(interest));
        }
        Add(fd, interest, token);
    }

    public void Modify(int fd, PollInterest interest, long token)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CheckFd(fd);
        if (_interests[fd] == PollInterest.None || fd == _wakeReadFd)
        {
            throw new InvalidOperationException($"fd {fd} is not registered with this poller.");
        }
        Remove(fd);
        // An fd with no interest stays registered in spirit: remember it with a marker so Unregister still works.
        if (interest == PollInterest.None)
        {
            _interests[fd] = (PollInterest)0x80;
            _tokens[fd] = token;
            _highestFd = Math.Max(_highestFd, fd);
            return;
        }
        Add(fd, interest, token);
    }

    public void Unregister(int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        CheckFd(fd);
        if (_interests[fd] == PollInterest.None || fd == _wakeReadFd)
        {
            throw new InvalidOperationException($"fd {fd} is not registered with this poller.");
        }
        Remove(fd);
    }

    public int Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.IsEmpty) throw new ArgumentException("The event span must hold at least one event.", nameof(events));
        FdSet read = _readMaster;
        FdSet write = _writeMaster;
        TimeVal timeout = TimeVal.FromMilliseconds(Math.Max(0, timeoutMilliseconds));
        int count = Libc.Select(_highestFd + 1, &read, &write, null, timeoutMilliseconds < 0 ? null : &timeout);
        if (count < 0)
        {
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) return 0;
            throw new ErrnoException("select", errno, ErrnoInfo.ToRaw(errno));
        }

        int filled = 0;
        for (int fd = 0; fd <= _highestFd && count > 0 && filled < events.Length; fd++)
        {
            PollEvents ready = PollEvents.None;
            if (read.IsSet(fd)) ready |= PollEvents.Readable;
            if (write.IsSet(fd)) ready |= PollEvents.Writable;
            if (ready == PollEvents.None) continue;
            count--;
            if (fd == _wakeReadFd)
            {
                DrainWaker();
                continue;
            }
            events[filled++] = new PollEvent(_tokens[fd], ready);
        }
        return filled;
    }

    public void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        // One byte in the pipe is enough; further wake-ups before the next drain add nothing.
        if (Interlocked.Exchange(ref _wakePending, 1) != 0) return;
        byte one = 1;
        Libc.Write(_wakeWriteFd, &one, 1);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Libc.Close(_wakeReadFd);
        Libc.Close(_wakeWriteFd);
    }

    private void DrainWaker()
    {
        // Drain first, then allow the next byte: reset first and a Wake in between writes a byte this drain eats,
        // leaving the flag set and the pipe empty, so every later Wake would return without waking anyone. A Wake
        // that finds the flag still set here is not lost: the loop is awake and runs its posted work next.
        byte* buffer = stackalloc byte[64];
        while (Libc.Read(_wakeReadFd, buffer, 64) > 0)
        {
        }
        Volatile.Write(ref _wakePending, 0);
    }

    private void Add(int fd, PollInterest interest, long token)
    {
        _interests[fd] = interest;
        _tokens[fd] = token;
        if ((interest & PollInterest.Read) != 0) _readMaster.Set(fd);
        if ((interest & PollInterest.Write) != 0) _writeMaster.Set(fd);
        if (fd > _highestFd) _highestFd = fd;
    }

    private void Remove(int fd)
    {
        _interests[fd] = PollInterest.None;
        _readMaster.Clear(fd);
        _writeMaster.Clear(fd);
        while (_highestFd >= 0 && _interests[_highestFd] == PollInterest.None) _highestFd--;
    }

    private static void CheckFd(int fd)
    {
        if ((uint)fd >= FdSet.Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(fd), fd,
                $"The select poller can watch descriptors 0 to {FdSet.Capacity - 1} (FD_SETSIZE) only, and fd {fd} is beyond that. " +
                "Use the epoll or kqueue poller (SNOW_POLLER=epoll|kqueue) for more open files.");
        }
    }
}
