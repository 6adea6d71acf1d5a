using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Snow.Native.Transport;

namespace Snow.Native;

/// <summary>
/// A response whose body is written piece by piece after the handler has returned it, framed with the chunked
/// transfer coding. The server sends the head at once (with <c>Transfer-Encoding: chunked</c> for HTTP/1.1; for an
/// HTTP/1.0 request with no length and <c>Connection: close</c>, the body ending when the connection closes); then
/// each <see cref="Write(ReadOnlySpan{byte})"/> becomes one chunk, and <see cref="Complete"/> sends the last one.
/// Writes are thread-safe and may come from any thread: the bytes are copied and handed to the connection's loop.
/// While the response is open the connection answers no further pipelined request.
/// </summary>
/// <remarks>
/// <para>Backpressure: <see cref="WaitForDrainAsync"/> completes once the bytes queued for the client are below
/// <see cref="SnowOptions.MaxResponseBufferBytes"/>. A producer that ignores it has its bytes queued in memory, up
/// to a hard limit of <see cref="HardLimitFactor"/> times that option: a write made while more is queued aborts the
/// response, the connection is closed and a warning is logged.</para>
/// <para>A response that is never completed keeps its connection (and the request) until the client leaves or the
/// server stops; the send-stall timeout applies while bytes wait for the client. Either way <see cref="IsAborted"/>
/// turns true and <see cref="Aborted"/> is cancelled.</para>
/// <para>Writes made before the handler returns the response are kept and sent with the head. A response object
/// answers one request only.</para>
/// </remarks>
public sealed class StreamingResponse : HttpResponseBase
{
    /// <summary>The hard limit on queued bytes, as a multiple of <see cref="SnowOptions.MaxResponseBufferBytes"/>.</summary>
    public const int HardLimitFactor = 16;

    // Until the server has the response its bytes cannot go anywhere: waits complete below this, then pend.
    private const int UnattachedDrainLimit = 64 * 1024;

    // "ffffffff\r\n" before the data, "\r\n" after it.
    private const int ChunkOverhead = 12;

    private readonly Lock _gate = new();
    private IStreamOwner? _owner;
    private bool _claimed;
    private bool _attached;
    private StreamFraming _framing;
    private List<byte[]>? _early;
    private long _earlyBytes;
    private byte[]? _pending;
    private int _pendingLength;
    private long _ownerQueued;
    private long _drainLimit;
    private long _hardLimit;
    private bool _pumpScheduled;
    private volatile bool _completed;
    private bool _finished;
    private bool _overflowed;
    private volatile bool _isAborted;
    private TaskCompletionSource<bool>? _drainWaiter;
    private CancellationTokenSource? _abortedSource;

    /// <summary>A response whose body is written afterwards with Write and ended with <see cref="Complete"/>; the content type defaults to <c>text/html; charset=utf-8</c>.</summary>
    public StreamingResponse(int statusCode = 200, string? contentType = null)
        : base(statusCode, contentType ?? HttpResponse.DefaultContentType)
    {
    }

    /// <summary>True once the client went away (or the server stopped, or the hard limit was hit) before the response was complete.</summary>
    public bool IsAborted => _isAborted;

    /// <summary>Cancelled when the response is aborted; see <see cref="IsAborted"/>.</summary>
    public CancellationToken Aborted
    {
        get
        {
            if (_abortedSource is null)
            {
                var source = new CancellationTokenSource();
                if (Interlocked.CompareExchange(ref _abortedSource, source, null) is not null) source.Dispose();
                else if (_isAborted) source.Cancel();
            }
            return _abortedSource!.Token;
        }
    }

    /// <summary>True once <see cref="Complete"/> has been called.</summary>
    public bool IsCompleted => _completed;

    /// <summary>
    /// Sends <paramref name="data"/> as one chunk (the bytes are copied). Thread-safe. An empty write sends nothing.
    /// Returns false, and drops the bytes, once the response is aborted; for a HEAD request (or a status without
    /// content) the bytes are dropped and it returns true. Throws after <see cref="Complete"/>.
    /// </summary>
    public bool Write(ReadOnlySpan<byte> data)
    {
        bool schedule;
        bool overflowed = false;
        TaskCompletionSource<bool>? waiter = null;
        lock (_gate)
        {
            if (_completed) throw new InvalidOperationException("The response was completed: nothing more can be written.");
            if (_isAborted) return false;
            if (data.IsEmpty) return true;
            if (!_attached)
            {
                (_early ??= new List<byte[]>()).Add(data.ToArray());
                _earlyBytes += data.Length;
                return true;
            }
            if (_framing == StreamFraming.None) return true;
            if (_pendingLength + _ownerQueued > _hardLimit)
            {
                // The producer ignored WaitForDrainAsync: give up on this client rather than grow without bound.
                overflowed = _overflowed = true;
                waiter = AbortLocked();
            }
            else
            {
                Span<byte> span = PendingSpan(EncodedLength(_framing, data.Length));
                _pendingLength += Encode(_framing, data, span);
            }
            schedule = !_pumpScheduled;
            _pumpScheduled = true;
        }
        if (overflowed) OnAborted(waiter);
        if (schedule) _owner!.Schedule(this); // the owner closes the connection of an overflowed response
        return !overflowed;
    }

    /// <summary>Sends <paramref name="text"/>, encoded as UTF-8, as one chunk; see <see cref="Write(ReadOnlySpan{byte})"/>.</summary>
    public bool Write(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return Write(ReadOnlySpan<byte>.Empty);
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, rented);
            return Write(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Ends the body (the last chunk, <c>0\r\n\r\n</c>); the connection then goes on with the next request.
    /// Thread-safe; true for the call that completed the response, false if it was already completed or aborted.
    /// </summary>
    public bool Complete()
    {
        lock (_gate)
        {
            if (_completed || _isAborted) return false;
            _completed = true;
            if (!_attached || _pumpScheduled) return true;
            _pumpScheduled = true;
        }
        _owner!.Schedule(this);
        return true;
    }

    /// <summary>
    /// Completes with true once the bytes queued for the client are below <see cref="SnowOptions.MaxResponseBufferBytes"/>
    /// (at once if they already are, or once the response is completed), or with false once the response is aborted.
    /// Continuations do not run on the loop thread unless the caller's context is the loop's. Before the handler has
    /// returned the response nothing can be sent: it completes at once while less than 64 KiB is queued, and
    /// otherwise waits for the server to take the response. A cancelled <paramref name="cancellationToken"/> ends the
    /// wait with an <see cref="OperationCanceledException"/>.
    /// </summary>
    public ValueTask<bool> WaitForDrainAsync(CancellationToken cancellationToken = default)
    {
        Task<bool> task;
        lock (_gate)
        {
            if (_isAborted) return new ValueTask<bool>(false);
            if (_completed) return new ValueTask<bool>(true);
            bool below = _attached
                ? _pendingLength + _ownerQueued < _drainLimit
                : _earlyBytes < UnattachedDrainLimit;
            if (below) return new ValueTask<bool>(true);
            _drainWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _drainWaiter.Task;
        }
        return new ValueTask<bool>(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
    }

    // ---- The connection's side; everything below runs on the owning loop's thread. ----

    internal IStreamOwner? Owner => _owner;

    internal StreamFraming Framing => _framing;

    /// <summary>Takes the response for one request; false if another request has it already.</summary>
    internal bool TryClaim()
    {
        lock (_gate)
        {
            if (_claimed) return false;
            _claimed = true;
            return true;
        }
    }

    /// <summary>
    /// Binds the claimed response to its connection (its head is in <paramref name="output"/> already), moves the
    /// writes made so far into <paramref name="output"/>, and says whether the response was completed meanwhile.
    /// </summary>
    internal bool Attach(IStreamOwner owner, StreamFraming framing, int drainLimit, ref OutputBuffer output, BufferPool pool)
    {
        lock (_gate)
        {
            _owner = owner;
            _framing = framing;
            _drainLimit = drainLimit;
            _hardLimit = (long)drainLimit * HardLimitFactor;
            _attached = true;
            if (_early is not null && framing != StreamFraming.None)
            {
                foreach (byte[] piece in _early)
                {
                    int length = Encode(framing, piece, output.GetSpan(pool, EncodedLength(framing, piece.Length)));
                    output.Advance(length);
                }
            }
            _early = null;
            _earlyBytes = 0;
            _ownerQueued = output.Pending;
            return _completed;
        }
    }

    /// <summary>Moves the bytes written since the last pump into <paramref name="output"/>.</summary>
    internal StreamPump Pump(ref OutputBuffer output, BufferPool pool)
    {
        lock (_gate)
        {
            _pumpScheduled = false;
            if (_isAborted) return _overflowed ? StreamPump.Overflowed : StreamPump.Aborted;
            if (_pendingLength > 0)
            {
                _pending.AsSpan(0, _pendingLength).CopyTo(output.GetSpan(pool, _pendingLength));
                output.Advance(_pendingLength);
                _pendingLength = 0;
            }
            ReleasePending(); // an open response that is not being written to holds no buffer
            _ownerQueued = output.Pending;
            return _completed ? StreamPump.Completed : StreamPump.Open;
        }
    }

    /// <summary>Tells the response how many bytes the connection still has queued; wakes drain waiters below the limit.</summary>
    internal void OnSent(int queued)
    {
        TaskCompletionSource<bool>? waiter = null;
        lock (_gate)
        {
            _ownerQueued = queued;
            if (_drainWaiter is not null && _pendingLength + queued < _drainLimit)
            {
                waiter = _drainWaiter;
                _drainWaiter = null;
            }
        }
        waiter?.TrySetResult(true);
    }

    /// <summary>The last chunk is written: the connection is done with this response.</summary>
    internal void Finish()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            _finished = true;
            waiter = _drainWaiter;
            _drainWaiter = null;
        }
        waiter?.TrySetResult(true);
    }

    /// <summary>The request it was returned for is gone: abort it, unless another request has it.</summary>
    internal void AbortUnclaimed()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            if (_claimed || _isAborted) return;
            _claimed = true;
            waiter = AbortLocked();
        }
        OnAborted(waiter);
    }

    /// <summary>The connection closed before the response was finished.</summary>
    internal void Abort()
    {
        TaskCompletionSource<bool>? waiter;
        lock (_gate)
        {
            if (_finished || _isAborted) return;
            waiter = AbortLocked();
        }
        OnAborted(waiter);
    }

    private TaskCompletionSource<bool>? AbortLocked()
    {
        _isAborted = true;
        _pendingLength = 0;
        ReleasePending();
        TaskCompletionSource<bool>? waiter = _drainWaiter;
        _drainWaiter = null;
        return waiter;
    }

    private void OnAborted(TaskCompletionSource<bool>? waiter)
    {
        waiter?.TrySetResult(false);
        try
        {
            _abortedSource?.Cancel();
        }
        catch (AggregateException)
        {
            // A user's cancellation callback threw; the abort itself stands.
        }
    }

    private Span<byte> PendingSpan(int size)
    {
        if (_pending is null)
        {
            _pending = ArrayPool<byte>.Shared.Rent(Math.Max(size, 4096));
        }
        else if (_pending.Length - _pendingLength < size)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_pendingLength + size, _pending.Length * 2));
            _pending.AsSpan(0, _pendingLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = larger;
        }
        return _pending.AsSpan(_pendingLength);
    }

    private void ReleasePending()
    {
        if (_pending is null) return;
        ArrayPool<byte>.Shared.Return(_pending);
        _pending = null;
    }

    private static int EncodedLength(StreamFraming framing, int length) =>
        framing == StreamFraming.Chunked ? length + ChunkOverhead : length;

    /// <summary>One write as it goes on the wire: a chunk (hex size, CRLF, data, CRLF), or the bare bytes.</summary>
    private static int Encode(StreamFraming framing, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (framing != StreamFraming.Chunked)
        {
            data.CopyTo(destination);
            return data.Length;
        }
        Utf8Formatter.TryFormat((uint)data.Length, destination, out int at, new StandardFormat('x'));
        "\r\n"u8.CopyTo(destination[at..]);
        at += 2;
        data.CopyTo(destination[at..]);
        at += data.Length;
        "\r\n"u8.CopyTo(destination[at..]);
        return at + 2;
    }
}

/// <summary>How the pieces of a streamed body go on the wire.</summary>
internal enum StreamFraming
{
    /// <summary>Nothing: a HEAD request, or a status without content. Writes are dropped.</summary>
    None,
    /// <summary>One chunk per write, then the last chunk (HTTP/1.1).</summary>
    Chunked,
    /// <summary>The bytes as they are; the body ends when the connection closes (HTTP/1.0).</summary>
    CloseDelimited,
}

/// <summary>What a pump found.</summary>
internal enum StreamPump
{
    Open,
    Completed,
    Aborted,
    Overflowed,
}

/// <summary>The connection a streamed response belongs to.</summary>
internal interface IStreamOwner
{
    /// <summary>From any thread: arranges for the owner to pump <paramref name="response"/> on its loop.</summary>
    void Schedule(StreamingResponse response);
}
