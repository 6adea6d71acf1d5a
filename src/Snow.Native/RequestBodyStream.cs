namespace Snow.Native;

/// <summary>A request body as a read-only, forward-only <see cref="Stream"/>.</summary>
internal sealed class RequestBodyStream(HttpRequest request) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        request.ReadBodyAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        request.ReadBodyAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Blocks the calling thread; never call it on a loop thread (the loop is what delivers the bytes).</summary>
    public override int Read(byte[] buffer, int offset, int count) =>
        request.ReadBodyAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
