using System.Buffers;

namespace Snow.Native.Transport;

/// <summary>
/// The loop's buffers. Connections take a buffer while data is in flight and give it back as soon as they are
/// idle, so an idle keep-alive connection holds none. Standard-size buffers are kept on a stack (one loop, one
/// thread: no locking); larger ones come from the shared ArrayPool.
/// </summary>
internal sealed class BufferPool(int bufferSize, int maxRetained)
{
    private readonly Stack<byte[]> _free = new();

    public int BufferSize { get; } = bufferSize;

    public int Retained => _free.Count;

    /// <summary>Buffers rented and not yet given back; read from other threads by diagnostics and tests only.</summary>
    public int InUse => Volatile.Read(ref _inUse);

    private int _inUse;

    public byte[] Rent(int minimumSize = 0)
    {
        _inUse++;
        if (minimumSize <= BufferSize) return _free.Count > 0 ? _free.Pop() : new byte[BufferSize];
        return ArrayPool<byte>.Shared.Rent(minimumSize);
    }

    public void Return(byte[] buffer)
    {
        _inUse--;
        if (buffer.Length == BufferSize)
        {
            if (_free.Count < maxRetained) _free.Push(buffer);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
