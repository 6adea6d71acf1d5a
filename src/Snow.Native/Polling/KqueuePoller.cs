using System.Runtime.InteropServices;
using Snow.Native.Interop;
using static Snow.Native.Interop.CommonConstants;

namespace Snow.Native.Polling;

/// <summary>
/// kqueue (macOS, FreeBSD), level-triggered. Each fd gets a read and a write filter at registration, each enabled
/// or disabled by the interest, so a change of interest is one kevent call and never needs to know the old one.
/// The waker is an EVFILT_USER event with EV_CLEAR. struct kevent is 32 bytes on macOS and 64 on FreeBSD 12+, but
/// the fields we use sit at the same offsets in both, so only the stride differs.
/// </summary>
internal sealed unsafe class KqueuePoller : IPoller
{
    private const int IdentOffset = 0;
    private const int FilterOffset = 8;
    private const int FlagsOffset = 10;
    private const int FFlagsOffset = 12;
    private const int DataOffset = 16;
    private const int UDataOffset = 24;
    private const nuint WakerIdent = 0;

    private static readonly int Stride = Platform.IsFreeBSD ? sizeof(KEventFreeBSD) : sizeof(KEventMacOS);

    private readonly int _kq;
    private byte* _nativeEvents;
    private int _nativeCapacity;
    private bool[] _registered = new bool[1024];
    private int _disposed;

    public KqueuePoller()
    {
        if (!Platform.IsBsd) throw new PlatformNotSupportedException("kqueue exists on macOS and FreeBSD only.");
        _kq = Libc.Kqueue();
        if (_kq < 0) throw ErrnoException.FromLastError("kqueue");
        Libc.SetCloseOnExec(_kq);
        Apply(stackalloc byte[Stride], WakerIdent, SysConst.EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, "kevent(EVFILT_USER add)");
        EnsureCapacity(256);
    }

    public string Name => "kqueue";

    public PollerKind Kind => PollerKind.Kqueue;

    public bool ReportsHangUp => true;

    public void Register(int fd, PollInterest interest, long token)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        if (fd < _registered.Length && _registered[fd])
        {
            throw new InvalidOperationException($"fd {fd} is already registered with this poller.");
        }
        SetFilters(fd, interest, token, EV_ADD, "kevent(EV_ADD)");
        if (fd >= _registered.Length) Array.Resize(ref _registered, Math.Max(fd + 1, _registered.Length * 2));
        _registered[fd] = true;
    }

    public void Modify(int fd, PollInterest interest, long token)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RequireRegistered(fd);
        SetFilters(fd, interest, token, EV_ADD, "kevent(modify)");
    }

    public void Unregister(int fd)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        RequireRegistered(fd);
        byte* changes = stackalloc byte[2 * Stride];
        new Span<byte>(changes, 2 * Stride).Clear();
        Fill(changes, (nuint)fd, EVFILT_READ, EV_DELETE, 0, 0);
        Fill(changes + Stride, (nuint)fd, EVFILT_WRITE, EV_DELETE, 0, 0);
        _registered[fd] = false;
        if (Libc.KEvent(_kq, changes, 2, null, 0, null) < 0) throw ErrnoException.FromLastError("kevent(EV_DELETE)");
    }

    public int Wait(Span<PollEvent> events, int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (events.IsEmpty) throw new ArgumentException("The event span must hold at least one event.", nameof(events));
        EnsureCapacity(events.Length);
        TimeSpec timeout = TimeSpec.FromMilliseconds(Math.Max(0, timeoutMilliseconds));
        int count = Libc.KEvent(_kq, null, 0, _nativeEvents, events.Length, timeoutMilliseconds < 0 ? null : &timeout);
        if (count < 0)
        {
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) return 0;
            throw new ErrnoException("kevent", errno, ErrnoInfo.ToRaw(errno));
        }

        int filled = 0;
        for (int i = 0; i < count; i++)
        {
            byte* entry = _nativeEvents + (i * Stride);
            short filter = *(short*)(entry + FilterOffset);
            ushort flags = *(ushort*)(entry + FlagsOffset);
            if (filter == SysConst.EVFILT_USER) continue; // the waker: EV_CLEAR already reset it
            PollEvents ready = filter == EVFILT_READ ? PollEvents.Readable
                : filter == EVFILT_WRITE ? PollEvents.Writable
                : PollEvents.None;
            if ((flags & EV_EOF) != 0) ready |= PollEvents.HangUp;
            if ((flags & EV_ERROR) != 0) ready |= PollEvents.Error;
            events[filled++] = new PollEvent(*(long*)(entry + UDataOffset), ready);
        }
        return filled;
    }

    public void Wake()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        byte* change = stackalloc byte[Stride];
        new Span<byte>(change, Stride).Clear();
        Fill(change, WakerIdent, SysConst.EVFILT_USER, 0, NOTE_TRIGGER, 0);
        Libc.KEvent(_kq, change, 1, null, 0, null);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Libc.Close(_kq);
        NativeMemory.Free(_nativeEvents);
        _nativeEvents = null;
    }

    private void SetFilters(int fd, PollInterest interest, long token, ushort action, string call)
    {
        byte* changes = stackalloc byte[2 * Stride];
        new Span<byte>(changes, 2 * Stride).Clear();
        ushort read = (ushort)(action | ((interest & PollInterest.Read) != 0 ? EV_ENABLE : EV_DISABLE));
        ushort write = (ushort)(action | ((interest & PollInterest.Write) != 0 ? EV_ENABLE : EV_DISABLE));
        Fill(changes, (nuint)fd, EVFILT_READ, read, 0, token);
        Fill(changes + Stride, (nuint)fd, EVFILT_WRITE, write, 0, token);
        if (Libc.KEvent(_kq, changes, 2, null, 0, null) < 0) throw ErrnoException.FromLastError(call);
    }

    private void Apply(Span<byte> scratch, nuint ident, short filter, ushort flags, uint fflags, long udata, string call)
    {
        scratch.Clear();
        fixed (byte* change = scratch)
        {
            Fill(change, ident, filter, flags, fflags, udata);
            if (Libc.KEvent(_kq, change, 1, null, 0, null) < 0) throw ErrnoException.FromLastError(call);
        }
    }

    private static void Fill(byte* entry, nuint ident, short filter, ushort flags, uint fflags, long udata)
    {
        *(nuint*)(entry + IdentOffset) = ident;
        *(short*)(entry + FilterOffset) = filter;
        *(ushort*)(entry + FlagsOffset) = flags;
        *(uint*)(entry + FFlagsOffset) = fflags;
        *(long*)(entry + DataOffset) = 0;
        *(long*)(entry + UDataOffset) = udata;
    }

    private void RequireRegistered(int fd)
    {
        if ((uint)fd >= (uint)_registered.Length || !_registered[fd])
        {
            throw new InvalidOperationException($"fd {fd} is not registered with this poller.");
        }
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _nativeCapacity) return;
        NativeMemory.Free(_nativeEvents);
        _nativeEvents = (byte*)NativeMemory.AllocZeroed((nuint)(count * Stride));
        _nativeCapacity = count;
    }

    /// <summary>Field offsets this poller relies on, for the layout tests.</summary>
    internal static (int Ident, int Filter, int Flags, int FFlags, int Data, int UData) Offsets =>
        (IdentOffset, FilterOffset, FlagsOffset, FFlagsOffset, DataOffset, UDataOffset);
}
