namespace Snow.Native.Transport;

/// <summary>
/// Bytes received on one connection and not yet consumed by its protocol: <c>[start, end)</c> of a pooled
/// buffer. The transport reads into the free room at the end (compacting first when the front was consumed);
/// only the protocol makes the buffer larger, because only it knows what the bytes are for and how much they may
/// take. An empty buffer goes back to the pool, so an idle connection holds none.
/// </summary>
internal struct InputBuffer
{
    private byte[]? _buffer;
    private int _start;
    private int _end;

    public readonly int Length => _end - _start;

    public readonly bool IsEmpty => _end == _start;

    public readonly int Capacity => _buffer?.Length ?? 0;

    /// <summary>No room to read into, even after compaction: the protocol must consume or grow it first.</summary>
    public readonly bool IsFull => _buffer is not null && _start == 0 && _end == _buffer.Length;

    /// <summary>The unconsumed bytes. Writable: a protocol may decode in place (the chunked coding does).</summary>
    public readonly Span<byte> Span => _buffer is null ? default : _buffer.AsSpan(_start, _end - _start);

    /// <summary>The array behind <see cref="Span"/> and where the span starts in it; valid until the next read.</summary>
    public readonly byte[]? Array => _buffer;

    public readonly int Start => _start;

    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)count, (uint)(_end - _start), nameof(count));
        _start += count;
    }

    /// <summary>Room at the end to read into, taking a buffer or compacting as needed; empty when full.</summary>
    public Span<byte> GetReadSpace(BufferPool pool)
    {
        if (_buffer is null)
        {
            _buffer = pool.Rent();
            _start = _end = 0;
        }
        else if (_end == _buffer.Length && _start > 0)
        {
            int pending = _end - _start;
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _start = 0;
            _end = pending;
        }
        return _buffer.AsSpan(_end);
    }

    /// <summary><see cref="GetReadSpace"/> as memory, for a reader that wants it (the TLS engine).</summary>
    public Memory<byte> GetReadMemory(BufferPool pool)
    {
        int room = GetReadSpace(pool).Length;
        return _buffer.AsMemory(_end, room);
    }

    public void Advance(int count) => _end += count;

    /// <summary>Moves the unconsumed bytes to a buffer of at least <paramref name="capacity"/> bytes (larger or smaller).</summary>
    public void Resize(BufferPool pool, int capacity)
    {
        int pending = _end - _start;
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, pending);
        byte[] next = pool.Rent(capacity);
        if (_buffer is not null)
        {
            _buffer.AsSpan(_start, pending).CopyTo(next);
            pool.Return(_buffer);
        }
        _buffer = next;
        _start = 0;
        _end = pending;
    }

    public void Release(BufferPool pool)
    {
        if (_buffer is not null) pool.Return(_buffer);
        _buffer = null;
        _start = _end = 0;
    }
}
