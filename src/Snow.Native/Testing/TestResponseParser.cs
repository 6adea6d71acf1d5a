using System.Globalization;
using System.Text;

namespace Snow.Native.Testing;

/// <summary>What a <see cref="TestResponseParser"/> found.</summary>
internal interface ITestResponseSink
{
    void OnHead(Version version, int status, string reason, List<KeyValuePair<string, string>> headers);

    void OnBody(ReadOnlySpan<byte> bytes);

    void OnComplete();
}

/// <summary>
/// One HTTP/1.1 response read as its bytes come, in any split: interim 1xx heads are skipped, the final head is
/// parsed, and the body is framed by Content-Length, by the chunked coding (decoded; trailers dropped), or by the
/// end of the stream; a HEAD request's answer and 204/304 have none. Not thread-safe (the loop feeds it).
/// </summary>
internal sealed class TestResponseParser(ITestResponseSink sink, bool headRequest)
{
    private const int MaxHeadBytes = 1 << 20;

    private enum Phase
    {
        Head,
        FixedBody,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        UntilClose,
        Done,
    }

    private readonly List<byte> _pending = new(); // a head, or a line of the chunked framing, not complete yet
    private Phase _phase;
    private long _remaining;

    public bool IsComplete => _phase == Phase.Done;

    /// <summary>Whether the final head has been parsed.</summary>
    public bool HasHead => _phase != Phase.Head;

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && _phase != Phase.Done)
        {
            switch (_phase)
            {
                case Phase.Head:
                    bytes = FeedHead(bytes);
                    break;
                case Phase.FixedBody:
                case Phase.ChunkData:
                {
                    int count = (int)Math.Min(_remaining, bytes.Length);
                    sink.OnBody(bytes[..count]);
                    bytes = bytes[count..];
                    _remaining -= count;
                    if (_remaining == 0)
                    {
                        if (_phase == Phase.FixedBody) Finish();
                        else _phase = Phase.ChunkDataEnd;
                    }
                    break;
                }
                case Phase.UntilClose:
                    sink.OnBody(bytes);
                    bytes = default;
                    break;
                default:
                    bytes = FeedFramingLine(bytes);
                    break;
            }
        }
    }

    /// <summary>The stream ended: true when that completed the response (a body that ends with the connection).</summary>
    public bool End()
    {
        if (_phase == Phase.UntilClose) Finish();
        return _phase == Phase.Done;
    }

    private ReadOnlySpan<byte> FeedHead(ReadOnlySpan<byte> bytes)
    {
        int searchFrom = Math.Max(0, _pending.Count - 3);
        foreach (byte b in bytes) _pending.Add(b);
        byte[] all = _pending.ToArray();
        int end = all.AsSpan(searchFrom).IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (all.Length > MaxHeadBytes) throw new InvalidDataException("The response head is larger than the test client reads.");
            return default;
        }
        end += searchFrom;
        _pending.Clear();
        ParseHead(Encoding.Latin1.GetString(all, 0, end));
        return all.AsSpan(end + 4).ToArray(); // the rest of this read, after the head
    }

    private void ParseHead(string head)
    {
        string[] lines = head.Split("\r\n");
        string[] statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Not an HTTP status line: {lines[0]}");
        }
        Version version = Version.Parse(statusLine[0]["HTTP/".Length..]);
        int status = int.Parse(statusLine[1], CultureInfo.InvariantCulture);
        if (status is >= 100 and < 200 and not 101) return; // interim (100 Continue): the final head follows

        var headers = new List<KeyValuePair<string, string>>(lines.Length - 1);
        string? contentLength = null;
        bool chunked = false;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new InvalidDataException($"Not a header line: {line}");
            string name = line[..colon];
            string value = line[(colon + 1)..].Trim();
            headers.Add(new KeyValuePair<string, string>(name, value));
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) contentLength = value;
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase)) chunked = true;
        }
        sink.OnHead(version, status, statusLine.Length > 2 ? statusLine[2] : "", headers);
        if (headRequest || status is 101 or 204 or 304)
        {
            Finish();
        }
        else if (chunked)
        {
            _phase = Phase.ChunkSize;
        }
        else if (contentLength is not null)
        {
            _remaining = long.Parse(contentLength, CultureInfo.InvariantCulture);
            _phase = Phase.FixedBody;
            if (_remaining == 0) Finish();
        }
        else
        {
            _phase = Phase.UntilClose;
        }
    }

    /// <summary>A chunk-size line, the CRLF after a chunk's data, or a trailer line.</summary>
    private ReadOnlySpan<byte> FeedFramingLine(ReadOnlySpan<byte> bytes)
    {
        int newline = bytes.IndexOf((byte)'\n');
        if (newline < 0)
        {
            foreach (byte b in bytes) _pending.Add(b);
            return default;
        }
        foreach (byte b in bytes[..newline]) _pending.Add(b);
        string line = Encoding.Latin1.GetString(_pending.ToArray()).TrimEnd('\r');
        _pending.Clear();
        switch (_phase)
        {
            case Phase.ChunkSize:
                int extension = line.IndexOf(';');
                _remaining = long.Parse(extension < 0 ? line.Trim() : line[..extension].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                _phase = _remaining == 0 ? Phase.Trailers : Phase.ChunkData;
                break;
            case Phase.ChunkDataEnd:
                if (line.Length != 0) throw new InvalidDataException("A chunk's data is not followed by CRLF.");
                _phase = Phase.ChunkSize;
                break;
            case Phase.Trailers:
                if (line.Length == 0) Finish(); // trailer fields, if any, are dropped
                break;
        }
        return bytes[(newline + 1)..];
    }

    private void Finish()
    {
        _phase = Phase.Done;
        sink.OnComplete();
    }
}
