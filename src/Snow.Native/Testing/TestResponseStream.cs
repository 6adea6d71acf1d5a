namespace Snow.Native.Testing;

/// <summary>
/// The body of a test client's response as it arrives: the loop appends what it parsed, the reader takes it on its
/// own thread. Disposing it before the end closes the connection (as a client hanging up would).
/// </summary>
internal sealed class TestResponseStream(Action abort) : Stream
{
    private readonly object _lock = new();
    private readonly Queue<byte[]> _chunks = new();
    private int _offset;
    private bool _completed;
    private bool _disposed;
    private Exception? _failure;
    private TaskCompletionSource? _waiter;

    /// <summary>Loop thread: more of the body.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        lock (_lock)
        {
            if (_completed) return;
            _chunks.Enqueue(bytes.ToArray());
        }
        Wake();
    }

    /// <summary>Loop thread: the body ended.</summary>
    public void Complete()
    {
        lock (_lock) _completed = true;
        Wake();
    }

    /// <summary>Loop thread: the body will not end (the connection closed first).</summary>
    public void Fail(Exception failure)
    {
        lock (_lock)
        {
            if (_completed) return;
            _failure = failure;
            _completed = true;
        }
        Wake();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_chunks.Count > 0)
                {
                    byte[] chunk = _chunks.Peek();
                    int count = Math.Min(buffer.Length, chunk.Length - _offset);
                    chunk.AsSpan(_offset, count).CopyTo(buffer.Span);
                    _offset += count;
                    if (_offset == chunk.Length)
                    {
                        _chunks.Dequeue();
                        _offset = 0;
                    }
                    return count;
                }
                if (_failure is not null) throw new IOException(_failure.Message, _failure);
                if (_completed || buffer.IsEmpty) return 0;
                wait = (_waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        bool unfinished;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            unfinished = !_completed;
            _completed = true;
            _chunks.Clear();
        }
        Wake();
        if (unfinished) abort();
        base.Dispose(disposing);
    }

    private void Wake()
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
    }
}
