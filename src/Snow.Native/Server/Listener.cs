using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;

namespace Snow.Native.Server;

/// <summary>
/// Accepts connections on one listening socket. Each wake-up drains the backlog up to a cap (so a flood of
/// connections cannot starve the loop's other work), shrugs off connections that died in the backlog, and when the
/// process runs out of descriptors (EMFILE/ENFILE) stops listening for a moment instead of spinning on an
/// always-readable socket it cannot accept from.
/// </summary>
internal sealed class Listener : IReadinessHandler
{
    private readonly LoopContext _context;
    private readonly Action<int> _handOff;
    private readonly int _fd;
    private long _token;
    private bool _paused;
    private bool _closed;

    /// <param name="context">The loop the listener runs on.</param>
    /// <param name="fd">The listening socket.</param>
    /// <param name="handOff">Takes each accepted descriptor: on this loop, or posted to another.</param>
    public Listener(LoopContext context, int fd, Action<int> handOff)
    {
        _context = context;
        _fd = fd;
        _handOff = handOff;
    }

    public int Fd => _fd;

    public LoopContext Context => _context;

    /// <summary>How many times accepting paused for lack of descriptors.</summary>
    public int Pauses { get; private set; }

    public void Start() => _token = _context.Loop.Register(_fd, PollInterest.Read, this);

    public void OnReady(PollEvents events)
    {
        if (_closed || _paused) return;
        int batch = _context.Options.AcceptBatch;
        for (int i = 0; i < batch; i++)
        {
            int fd = Libc.AcceptNonBlocking(_fd);
            if (fd >= 0)
            {
                _handOff(fd);
                continue;
            }
            Errno errno = ErrnoInfo.Last();
            switch (errno)
            {
                case Errno.EAGAIN:
                    return;
                case Errno.EINTR:
                case Errno.ECONNABORTED: // the client gave up while in the backlog: next one
                case Errno.EPERM:        // refused by a firewall rule on Linux: next one
                    continue;
                case Errno.EMFILE:
                case Errno.ENFILE:
                case Errno.ENOBUFS:
                case Errno.ENOMEM:
                    Pause(errno);
                    return;
                default:
                    ServerLog.AcceptFailed(_context.Logger, _fd, errno);
                    Pause(errno);
                    return;
            }
        }
    }

    public void Close()
    {
        if (_closed) return;
        _closed = true;
        if (!_paused)
        {
            try
            {
                _context.Loop.Unregister(_fd, _token);
            }
            catch (Exception e) when (e is InvalidOperationException or ErrnoException)
            {
                // already gone from the poller
            }
        }
        Libc.Close(_fd);
    }

    private void Pause(Errno errno)
    {
        // Level-triggered readiness would report the pending connection again at once: take the listener out of
        // the poller and retry on a timer. The backlog keeps the waiting connections meanwhile.
        _paused = true;
        Pauses++;
        _context.Loop.Unregister(_fd, _token);
        ServerLog.AcceptPaused(_context.Logger, _context.Options.AcceptPauseOnFdExhaustion.TotalMilliseconds, errno);
        _context.Loop.Schedule(_context.Options.AcceptPauseOnFdExhaustion, static state => ((Listener)state!).Resume(), this);
    }

    private void Resume()
    {
        if (_closed) return;
        _paused = false;
        _token = _context.Loop.Register(_fd, PollInterest.Read, this);
    }
}
