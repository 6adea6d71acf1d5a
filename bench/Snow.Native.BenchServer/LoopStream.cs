using System.Threading.Tasks.Sources;
using Snow.Native.Transport;

namespace Snow.Native.BenchServer;

/// <summary>
/// The alternative to Snow.Native's own WebSocket codec that the issue asks to measure: a Stream over an upgraded
/// connection's transport, for System.Net.WebSockets.WebSocket.CreateFromStream. Reads complete on the loop when
/// input arrives (inline, so the managed WebSocket's parsing runs on the loop); writes are copied into the
/// transport's output and sent. No back-pressure: enough for an echo and an idle socket, which is what is measured.
/// </summary>
internal sealed class LoopStream(ConnectionTransport transport) : Stream, IConnectionProtocol, IValueTaskSource<int>
{
    private ManualResetValueTaskSourceCore<int> _read = new() { RunContinuationsAsynchronously = false };
    private Memory<byte> _readBuffer;
    private bool _reading;
    private bool _ended;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (transport.Loop.IsOnLoopThread && TryRead(buffer, out int count)) return new ValueTask<int>(count);
        _read.Reset();
        _readBuffer = buffer;
        var task = new ValueTask<int>(this, _read.Version);
        transport.Loop.Invoke(static state =>
        {
            var stream = (LoopStream)state!;
            stream._reading = true;
            stream.ServeRead();
        }, this);
        return task;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (transport.Loop.IsOnLoopThread)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
        byte[] copy = buffer.ToArray();
        transport.Loop.Post(static state =>
        {
            var (stream, bytes) = ((LoopStream, byte[]))state!;
            stream.Write(bytes);
        }, (this, copy));
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (transport.IsClosed) return;
        buffer.CopyTo(transport.Output.GetSpan(transport.Pool, buffer.Length));
        transport.Output.Advance(buffer.Length);
        transport.Flush();
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) transport.Loop.Invoke(static state => ((ConnectionTransport)state!).CloseWhenFlushed(), transport);
        base.Dispose(disposing);
    }

    private bool TryRead(Memory<byte> buffer, out int count)
    {
        count = 0;
        if (_ended || transport.IsClosed) return true;
        if (transport.Input.IsEmpty) return false;
        count = Math.Min(buffer.Length, transport.Input.Length);
        transport.Input.Span[..count].CopyTo(buffer.Span);
        transport.Input.Consume(count);
        transport.RefreshInterest();
        return true;
    }

    private void ServeRead()
    {
        if (!_reading || !TryRead(_readBuffer, out int count)) return;
        _reading = false;
        _readBuffer = default;
        _read.SetResult(count);
    }

    void IConnectionProtocol.OnInput() => ServeRead();
    void IConnectionProtocol.OnOutputSent() { }
    void IConnectionProtocol.OnPeerClosed()
    {
        _ended = true;
        ServeRead();
    }
    void IConnectionProtocol.OnTimeout(TimerReason reason) { }
    void IConnectionProtocol.OnShutdown() => transport.Close();
    void IConnectionProtocol.OnClosed()
    {
        _ended = true;
        ServeRead();
    }

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);
    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);
}
