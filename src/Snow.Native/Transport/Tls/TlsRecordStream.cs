using System.Threading.Tasks.Sources;

namespace Snow.Native.Transport.Tls;

/// <summary>
/// The stream under the TLS engine (<see cref="System.Net.Security.SslStream"/>): records come from the bytes the
/// transport read off the socket, and records the engine writes are queued for the transport to send. Nothing here
/// blocks: a read with no bytes waiting completes later, on the loop thread, when the transport feeds bytes in
/// (<see cref="OnBytesArrived"/>), and the engine's async code then goes on inline. Writes complete at once.
/// One read at a time (the engine never has two), through one reusable value-task source, so waiting costs nothing.
/// </summary>
internal sealed class TlsRecordStream : Stream, IValueTaskSource<int>
{
    private readonly TlsTransport _owner;
    private ManualResetValueTaskSourceCore<int> _read;
    private Memory<byte> _readBuffer;
    private bool _readPending;

    public TlsRecordStream(TlsTransport owner)
    {
        _owner = owner;
    }

    /// <summary>The engine waits for records (the transport should read the socket).</summary>
    public bool ReadPending => _readPending;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_owner.CipherAvailable > 0) return new ValueTask<int>(_owner.TakeCipher(buffer.Span));
        if (_owner.CipherEnded) return new ValueTask<int>(0);
        if (_owner.IsClosed) return ValueTask.FromException<int>(new IOException("The connection is closed."));
        _read.Reset();
        _readBuffer = buffer;
        _readPending = true;
        _owner.EngineWaitsForRecords();
        return new ValueTask<int>(this, _read.Version);
    }

    /// <summary>Bytes (or the end of the stream) arrived: a waiting read takes them now, and the engine goes on.</summary>
    public void OnBytesArrived()
    {
        if (!_readPending) return;
        _readPending = false;
        Memory<byte> buffer = _readBuffer;
        _readBuffer = default;
        _read.SetResult(_owner.CipherAvailable > 0 ? _owner.TakeCipher(buffer.Span) : 0);
    }

    /// <summary>The connection closed under the engine: a waiting read fails, so nothing waits for ever.</summary>
    public void OnClosed()
    {
        if (!_readPending) return;
        _readPending = false;
        _readBuffer = default;
        _read.SetException(new IOException("The connection is closed."));
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _owner.QueueCipher(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Write(ReadOnlySpan<byte> buffer) => _owner.QueueCipher(buffer);

    public override void Write(byte[] buffer, int offset, int count) => _owner.QueueCipher(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        _owner.QueueCipher(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The engine is only driven through its async methods; a blocking read has no place on the loop.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("TLS records are read asynchronously on the loop.");

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);
}
