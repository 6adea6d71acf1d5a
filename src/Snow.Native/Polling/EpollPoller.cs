using System.Runtime.InteropServices;
using Snow.Native.Interop;
using static Snow.Native.Interop.LinuxConstants;

namespace Snow.Native.Polling;

/// <summary>
/// Linux epoll, level-triggered. The waker is an eventfd registered under a token no caller can use; reading it
/// resets the counter, so any number of wake-ups between two waits cost one event.
/// </summary>
internal sealed unsafe class EpollPoller : IPoller
{
    private const ulong WakerData = ulong.MaxValue;

    private readonly int _epollFd;
    private readonly int _eventFd;
    private byte* _nativeEvents;
    private int _nativeCapacity;
    private int _disposed;

    public EpollPoller()
    {
        if (!Platform.IsLinux) throw new PlatformNotSupportedException("epoll exists on Linux only.");
        _epollFd = Libc.EpollCreate1(EPOLL_CLOEXEC);
        if (_epollFd < 0) throw ErrnoException.FromLastError("epoll_create1");
        _eventFd = Libc.EventFd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_eventFd < 0)
        {
            var error = ErrnoException.FromLastError("eventfd");
            Libc.Close(_epollFd);
            throw error;
        }
        Control(EPOLL_CTL_ADD, _eventFd, EPOLLIN, WakerData, "epoll_ctl(ADD, waker)");
        EnsureCapacity(256);
    }

    public string Name => "epoll";

    public PollerKind Kind => PollerKind.Epoll;

    public bool ReportsHangUp => true;

    public void Register(int fd, PollInterest interest, long token)
    {
        CheckToken(token);
        Control(EPOLL_CTL_ADD, fd, ToEpoll(interest), (ulong)token, "epoll_ctl(ADD)");
    }

    public void Modify(int fd, PollInterest interest, long token)
    {
        CheckToken(token);
        Control(EPOLL_CTL_MOD, fd, ToEpoll(interest), (ulong)token, "epoll_ctl(MOD)");
    }

    public void Unregister(int fd) => Control(EPOLL_CTL_DEL, fd, 0, 0, "epoll_ctl(DEL)");

    public int Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.IsEmpty) throw new ArgumentException("The event span must hold at least one event.", nameof(events));
        EnsureCapacity(events.Length);
        int count = Libc.EpollWait(_epollFd, _nativeEvents, events.Length, timeoutMilliseconds);
        if (count < 0)
        {
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) return 0;
            throw new ErrnoException("epoll_wait", errno, ErrnoInfo.ToRaw(errno));
        }

        int stride = EpollEventLayout.Size;
        int dataOffset = EpollEventLayout.DataOffset;
        int filled = 0;
        for (int i = 0; i < count; i++)
        {
            byte* entry = _nativeEvents + (i * stride);
            uint flags = *(uint*)entry;
            ulong data = *(ulong*)(entry + dataOffset); // unaligned on x86_64, which x86 allows
            if (data == WakerData)
            {
                DrainWaker();
                continue;
            }
            events[filled++] = new PollEvent((long)data, FromEpoll(flags));
        }
        return filled;
    }

    public void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        ulong one = 1;
        // EAGAIN means the counter is saturated: a wake-up is pending anyway.
        Libc.Write(_eventFd, (byte*)&one, sizeof(ulong));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Libc.Close(_eventFd);
        Libc.Close(_epollFd);
        NativeMemory.Free(_nativeEvents);
        _nativeEvents = null;
    }

    private void DrainWaker()
    {
        ulong value;
        Libc.Read(_eventFd, (byte*)&value, sizeof(ulong));
    }

    private void Control(int operation, int fd, uint flags, ulong data, string call)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        // Enough room for either layout; the kernel reads only the bytes of its own.
        byte* entry = stackalloc byte[16];
        *(uint*)entry = flags;
        *(ulong*)(entry + EpollEventLayout.DataOffset) = data;
        if (Libc.EpollCtl(_epollFd, operation, fd, entry) == 0) return;

        Errno errno = ErrnoInfo.Last();
        throw errno switch
        {
            Errno.EEXIST => new InvalidOperationException($"fd {fd} is already registered with this poller."),
            Errno.ENOENT => new InvalidOperationException($"fd {fd} is not registered with this poller."),
            _ => new ErrnoException(call, errno, ErrnoInfo.ToRaw(errno)),
        };
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _nativeCapacity) return;
        NativeMemory.Free(_nativeEvents);
        _nativeEvents = (byte*)NativeMemory.AllocZeroed((nuint)(count * EpollEventLayout.Size));
        _nativeCapacity = count;
    }

    private static void CheckToken(long token)
    {
        if ((ulong)token == WakerData) throw new ArgumentOutOfRangeException(nameof(token), "Token -1 is reserved for the poller's waker.");
    }

    private static uint ToEpoll(PollInterest interest)
    {
        uint flags = 0;
        if ((interest & PollInterest.Read) != 0) flags |= EPOLLIN | EPOLLRDHUP;
        if ((interest & PollInterest.Write) != 0) flags |= EPOLLOUT;
        return flags;
    }

    private static PollEvents FromEpoll(uint flags)
    {
        PollEvents events = PollEvents.None;
        if ((flags & EPOLLIN) != 0) events |= PollEvents.Readable;
        if ((flags & EPOLLOUT) != 0) events |= PollEvents.Writable;
        if ((flags & (EPOLLHUP | EPOLLRDHUP)) != 0) events |= PollEvents.HangUp;
        if ((flags & EPOLLERR) != 0) events |= PollEvents.Error;
        return events;
    }
}
