namespace Snow.Native.Transport;

/// <summary>
/// Bytes waiting to be sent on one connection. Responses to every request of one read are appended here and go
/// out in one send; whatever the socket does not take stays queued until it is writable again. The buffer is
/// taken from the loop's pool when the first byte is written and given back when everything has been sent.
/// </summary>
internal struct OutputBuffer
{
    private byte[]? _buffer;
    private int _start;
    private int _end;

    public readonly int Pending => _end - _start;

    public readonly bool IsEmpty => _end == _start;

    public readonly ReadOnlySpan<byte> PendingSpan => _buffer is null ? default : _buffer.AsSpan(_start, _end - _start);

    public readonly ReadOnlyMemory<byte> PendingMemory => _buffer is null ? default : _buffer.AsMemory(_start, _end - _start);

    /// <summary>Room for at least <paramref name="size"/> more bytes.</summary>
    public Span<byte> GetSpan(BufferPool pool, int size)
    {
        if (_buffer is null)
        {
            _buffer = pool.Rent(size);
            _start = _end = 0;
        }
        else if (_buffer.Length - _end < size)
        {
            int pending = _end - _start;
            if (_buffer.Length - pending >= size && _start > 0)
            {
                _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            }
            else
            {
                byte[] larger = pool.Rent(Math.Max(pending + size, _buffer.Length * 2));
                _buffer.AsSpan(_start, pending).CopyTo(larger);
                pool.Return(_buffer);
                _buffer = larger;
            }
            _start = 0;
            _end = pending;
        }
        return _buffer.AsSpan(_end);
    }

    /// <summary>Room for at least <paramref name="size"/> more bytes, as memory (for an <see cref="System.Buffers.IBufferWriter{T}"/>).</summary>
    public Memory<byte> GetMemory(BufferPool pool, int size)
    {
        GetSpan(pool, size);
        return _buffer.AsMemory(_end);
    }

    /// <summary>The pending bytes, writable: a writer patches what it appended (a length it knew only afterwards).</summary>
    public readonly Span<byte> WrittenSpan => _buffer is null ? default : _buffer.AsSpan(_start, _end - _start);

    /// <summary>Drops the pending bytes past the first <paramref name="pending"/> (a writer taking back what it appended).</summary>
    public void Truncate(int pending)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pending);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pending, Pending);
        _end = _start + pending;
    }

    /// <summary>Removes <paramref name="count"/> pending bytes at <paramref name="offset"/> (from the first pending byte), closing the gap.</summary>
    public void Remove(int offset, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + count, Pending);
        if (count == 0) return;
        int from = _start + offset + count;
        _buffer.AsSpan(from, _end - from).CopyTo(_buffer.AsSpan(_start + offset));
        _end -= count;
    }

    public void Advance(int count) => _end += count;

    /// <summary>Marks <paramref name="count"/> bytes as sent; gives the buffer back once all are.</summary>
    public void Consume(int count, BufferPool pool)
    {
        _start += count;
        if (_start == _end) Release(pool);
    }

    public void Release(BufferPool pool)
    {
        if (_buffer is not null) pool.Return(_buffer);
        _buffer = null;
        _start = _end = 0;
    }
}
