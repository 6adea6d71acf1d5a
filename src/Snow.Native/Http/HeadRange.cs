namespace Snow.Native.Http;

/// <summary>
/// A stretch of the buffer a request head was parsed from, as offsets, so that the head holds no reference to
/// (and needs no copy of) the connection's buffer.
/// </summary>
internal readonly record struct HeadRange(int Start, int Length)
{
    public bool IsEmpty => Length == 0;

    public int End => Start + Length;

    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> buffer) => buffer.Slice(Start, Length);
}

/// <summary>One header field as it appeared on the wire: name, and value with surrounding whitespace trimmed.</summary>
internal readonly ref struct RequestHeaderField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
{
    public ReadOnlySpan<byte> Name { get; } = name;

    public ReadOnlySpan<byte> Value { get; } = value;
}
