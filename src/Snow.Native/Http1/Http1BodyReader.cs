using System.Threading.Tasks.Sources;
using Snow.Native.Loop;

namespace Snow.Native.Http1;

/// <summary>
/// The streamed body of one request, read by its handler from any thread, one read at a time. Reads are served on
/// the connection's loop from the transport's input: the bytes are copied into the caller's buffer and consumed,
/// and the transport reads the socket again only once there is room, so a client cannot send faster than the
/// handler takes its bytes. One reader per connection, reused; a read allocates nothing.
/// </summary>
internal sealed class Http1BodyReader : IRequestBodySource, IValueTaskSource<int>
{
    private readonly Http1Connection _connection;
    private readonly EventLoop _loop;
    private ManualResetValueTaskSourceCore<int> _core;
    private Memory<byte> _pending;
    private volatile bool _reading;
    private bool _complete;
    private Exception? _failure;
    private int _generation;
    private CancellationTokenRegistration _cancellation;

    public Http1BodyReader(Http1Connection connection, EventLoop loop)
    {
        _connection = connection;
        _loop = loop;
        _core.RunContinuationsAsynchronously = true; // never run a handler inside the protocol's own call
    }

    public bool HasPendingRead => _reading;

    public Memory<byte> PendingBuffer => _pending;

    /// <summary>The whole body has been delivered; further reads return 0.</summary>
    public bool IsComplete => _complete;

    /// <summary>A new request's body begins.</summary>
    public void Begin()
    {
        _generation++;
        _complete = false;
        _failure = null;
    }

    /// <summary>The exchange ended: reads from now on fail (the body belongs to no one).</summary>
    public void End()
    {
        if (_complete) return;
        _failure ??= new InvalidOperationException("The request is over: its body can no longer be read.");
        if (_reading) Fail(_failure);
    }

    public void MarkComplete() => _complete = true;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        if (_reading) throw new InvalidOperationException("A read of the request body is already in progress: read one at a time.");
        if (_failure is not null) return ValueTask.FromException<int>(_failure);
        if (_complete) return new ValueTask<int>(0);
        _core.Reset();
        _pending = buffer;
        _reading = true;
        short version = _core.Version;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var reader = (Http1BodyReader)state!;
                reader._loop.Post(static s => ((Http1BodyReader)s!).CancelRead(), reader);
            }, this);
        }
        if (_loop.IsOnLoopThread) _connection.OnBodyReadRequested(posted: false);
        else _loop.Post(static state => ((Http1BodyReader)state!)._connection.OnBodyReadRequested(posted: true), this);
        return new ValueTask<int>(this, version);
    }

    /// <summary>Loop thread: the pending read gets <paramref name="count"/> bytes (0: the end of the body).</summary>
    public void Complete(int count)
    {
        if (!_reading) return;
        Finish();
        _core.SetResult(count);
    }

    public void Fail(Exception failure)
    {
        _failure ??= failure;
        if (!_reading) return;
        Finish();
        _core.SetException(failure);
    }

    private void CancelRead()
    {
        if (!_reading) return;
        Finish();
        _core.SetException(new OperationCanceledException("The read of the request body was cancelled."));
    }

    private void Finish()
    {
        _reading = false;
        _pending = default;
        _cancellation.Dispose();
        _cancellation = default;
    }

    int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
