using System.IO.Compression;

namespace Snow.Native.WebSockets;

/// <summary>What the handshake agreed for permessage-deflate (RFC 7692).</summary>
internal sealed record DeflateAgreement(bool ServerNoContextTakeover, bool ClientNoContextTakeover);

/// <summary>
/// The negotiation of permessage-deflate (RFC 7692 section 7): the first offer the server can honour is accepted.
/// The server's compressor is .NET's deflate with its fixed 15-bit window, so an offer that limits the server's
/// window below 15 bits is declined (the next offer, or none, is taken); the client's window may be anything,
/// since a 15-bit inflater reads every window size. Offers with unknown, repeated or malformed parameters are
/// declined, as the RFC asks.
/// </summary>
internal static class PerMessageDeflate
{
    public const string Name = "permessage-deflate";

    /// <summary>The response's Sec-WebSocket-Extensions value and the agreement, or null when no offer is accepted.</summary>
    public static string? Negotiate(IReadOnlyList<string> headerValues, bool serverContextTakeover, out DeflateAgreement? agreement)
    {
        agreement = null;
        foreach (string header in headerValues)
        {
            foreach (string offer in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string? response = TryAccept(offer, serverContextTakeover, out agreement);
                if (response is not null) return response;
            }
        }
        return null;
    }

    private static string? TryAccept(string offer, bool serverContextTakeover, out DeflateAgreement? agreement)
    {
        agreement = null;
        string[] parts = offer.Split(';', StringSplitOptions.TrimEntries);
        if (!parts[0].Equals(Name, StringComparison.OrdinalIgnoreCase)) return null;
        bool serverNoContext = false, clientNoContext = false, serverBits = false, clientBits = false;
        foreach (string part in parts.Skip(1))
        {
            if (part.Length == 0) return null;
            int equals = part.IndexOf('=');
            string name = (equals < 0 ? part : part[..equals]).Trim().ToLowerInvariant();
            string? value = equals < 0 ? null : part[(equals + 1)..].Trim().Trim('"');
            switch (name)
            {
                case "server_no_context_takeover" when value is null && !serverNoContext:
                    serverNoContext = true;
                    break;
                case "client_no_context_takeover" when value is null && !clientNoContext:
                    clientNoContext = true;
                    break;
                case "server_max_window_bits" when !serverBits && WindowBits(value) is int bits:
                    if (bits != 15) return null; // this compressor's window is 15 bits: decline
                    serverBits = true;
                    break;
                case "client_max_window_bits" when !clientBits && (value is null || WindowBits(value) is not null):
                    clientBits = true;
                    break;
                default:
                    return null; // unknown, repeated or malformed: the offer is declined
            }
        }
        bool serverResets = serverNoContext || !serverContextTakeover;
        agreement = new DeflateAgreement(serverResets, clientNoContext);
        string response = Name;
        if (serverResets) response += "; server_no_context_takeover";
        if (clientNoContext) response += "; client_no_context_takeover";
        if (serverBits) response += "; server_max_window_bits=15";
        return response;
    }

    private static int? WindowBits(string? value) =>
        value is { Length: 1 or 2 } && value.All(char.IsAsciiDigit) && int.Parse(value) is >= 8 and <= 15 and int bits ? bits : null;
}

/// <summary>
/// One connection's compressor and decompressor for permessage-deflate: messages are deflated with a sync flush
/// and the trailing 00 00 FF FF removed (section 7.2.1), and inflated with that tail put back. Each side keeps its
/// context across messages unless the agreement says otherwise. Created at the first compressed message, so a
/// connection that negotiated compression but is idle holds neither zlib state.
/// </summary>
internal sealed class MessageDeflater(DeflateAgreement agreement, CompressionLevel level) : IDisposable
{
    private static readonly byte[] Tail = [0x00, 0x00, 0xFF, 0xFF];

    private readonly GrowableBuffer _compressed = new();
    private DeflateStream? _compressor;
    private readonly FeedStream _feed = new();
    private DeflateStream? _decompressor;

    public DeflateAgreement Agreement => agreement;

    /// <summary>The compressed payload of one message; valid until the next call.</summary>
    public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> payload)
    {
        _compressed.Count = 0;
        _compressor ??= new DeflateStream(_compressed, level, leaveOpen: true);
        _compressor.Write(payload);
        _compressor.Flush(); // a sync flush: the message ends on a byte boundary with 00 00 FF FF
        int length = _compressed.Count;
        if (agreement.ServerNoContextTakeover)
        {
            _compressor.Dispose(); // its final block lands after `length` and is not sent
            _compressor = null;
        }
        if (length >= 4 && _compressed.Span[(length - 4)..].SequenceEqual(Tail)) length -= 4;
        return _compressed.Span[..length];
    }

    /// <summary>
    /// Inflates one message into <paramref name="output"/> (grown from <paramref name="pool"/> as the bytes come);
    /// stops, and returns -1, as soon as more than <paramref name="limit"/> bytes came out.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not deflate.</exception>
    public int Decompress(ReadOnlyMemory<byte> payload, ref byte[]? output, int limit, Transport.BufferPool pool)
    {
        _feed.Set(payload, Tail);
        _decompressor ??= new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
        int length = 0;
        output ??= pool.Rent(Math.Min(limit + 1, Math.Max(payload.Length * 4, 256)));
        while (true)
        {
            if (length == output.Length)
            {
                if (length > limit) return -1;
                byte[] larger = pool.Rent(Math.Min(limit + 1, output.Length * 2));
                output.AsSpan(0, length).CopyTo(larger);
                pool.Return(output);
                output = larger;
            }
            int room = Math.Min(output.Length, limit + 1) - length;
            int read = _decompressor.Read(output, length, room);
            if (read == 0) break;
            length += read;
            if (length > limit) return -1;
        }
        if (agreement.ClientNoContextTakeover)
        {
            _decompressor.Dispose(); // the client starts afresh each message: no window to keep
            _decompressor = null;
        }
        return length;
    }

    public void Dispose()
    {
        _compressor?.Dispose();
        _decompressor?.Dispose();
    }

    /// <summary>What the decompressor reads: one message's payload, then the tail.</summary>
    private sealed class FeedStream : Stream
    {
        private ReadOnlyMemory<byte> _first;
        private ReadOnlyMemory<byte> _second;

        public void Set(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second)
        {
            _first = first;
            _second = second;
        }

        public override int Read(Span<byte> buffer)
        {
            ref ReadOnlyMemory<byte> source = ref _first.IsEmpty ? ref _second : ref _first;
            int count = Math.Min(buffer.Length, source.Length);
            source.Span[..count].CopyTo(buffer);
            source = source[count..];
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Where the compressor writes: a byte array that grows.</summary>
    private sealed class GrowableBuffer : Stream
    {
        private byte[] _bytes = new byte[256];

        public int Count { get; set; }

        public Span<byte> Span => _bytes.AsSpan(0, Count);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_bytes.Length - Count < buffer.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Count + buffer.Length));
            buffer.CopyTo(_bytes.AsSpan(Count));
            Count += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Count;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
