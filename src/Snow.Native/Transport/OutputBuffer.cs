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
