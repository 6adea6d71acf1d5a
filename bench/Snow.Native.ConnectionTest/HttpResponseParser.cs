using System.Buffers.Text;
using System.Text;

namespace Snow.Native.ConnectionTest;

/// <summary>The parts of a response the test checks.</summary>
internal readonly record struct ParsedResponse(int Status, int BodyStart, int BodyLength, int TotalLength, bool ConnectionClose);

/// <summary>
/// Finds one complete HTTP/1.1 response at the start of a buffer. Responses here are tiny, so the caller simply
/// parses again from the start after every read instead of keeping parser state between reads.
/// </summary>
internal static class HttpResponseParser
{
    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> LineEnd => "\r\n"u8;

    /// <summary>True and the response when the buffer holds a whole one; false when more bytes are needed.</summary>
    /// <exception cref="FormatException">The bytes are not an HTTP/1.x response.</exception>
    public static bool TryParse(ReadOnlySpan<byte> buffer, out ParsedResponse response)
    {
        response = default;
        int headerEnd = buffer.IndexOf(HeaderEnd);
        if (headerEnd < 0) return false;

        ReadOnlySpan<byte> head = buffer[..headerEnd];
        int statusLineEnd = head.IndexOf(LineEnd);
        ReadOnlySpan<byte> statusLine = statusLineEnd < 0 ? head : head[..statusLineEnd];
        // "HTTP/1.1 200 OK"
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out int consumed) || consumed != 3)
        {
            throw new FormatException($"bad status line: {Encoding.ASCII.GetString(statusLine)}");
        }

        long contentLength = -1;
        bool chunked = false;
        bool connectionClose = false;
        ReadOnlySpan<byte> headers = statusLineEnd < 0 ? [] : head[(statusLineEnd + 2)..];
        while (!headers.IsEmpty)
        {
            int lineEnd = headers.IndexOf(LineEnd);
            ReadOnlySpan<byte> line = lineEnd < 0 ? headers : headers[..lineEnd];
            headers = lineEnd < 0 ? [] : headers[(lineEnd + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) throw new FormatException($"bad header line: {Encoding.ASCII.GetString(line)}");
            ReadOnlySpan<byte> name = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out int used) || used != value.Length || contentLength < 0)
                {
                    throw new FormatException("bad Content-Length");
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = value.IndexOf("chunked"u8) >= 0;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                connectionClose = Ascii.EqualsIgnoreCase(value, "close"u8);
            }
        }

        int bodyStart = headerEnd + HeaderEnd.Length;
        bool bodiless = status is (>= 100 and < 200) or 204 or 304;
        if (bodiless || (!chunked && contentLength <= 0))
        {
            response = new ParsedResponse(status, bodyStart, 0, bodyStart, connectionClose);
            return true;
        }
        if (!chunked)
        {
            if (buffer.Length - bodyStart < contentLength) return false;
            response = new ParsedResponse(status, bodyStart, (int)contentLength, bodyStart + (int)contentLength, connectionClose);
            return true;
        }
        if (!TryMeasureChunkedBody(buffer[bodyStart..], out int chunkedLength, out int payloadLength)) return false;
        response = new ParsedResponse(status, bodyStart, payloadLength, bodyStart + chunkedLength, connectionClose);
        return true;
    }

    /// <summary>The encoded length of a whole chunked body (with its trailers) and the length of its payload.</summary>
    private static bool TryMeasureChunkedBody(ReadOnlySpan<byte> body, out int encodedLength, out int payloadLength)
    {
        encodedLength = 0;
        payloadLength = 0;
        int position = 0;
        while (true)
        {
            int sizeEnd = body[position..].IndexOf(LineEnd);
            if (sizeEnd < 0) return false;
            ReadOnlySpan<byte> sizeLine = body.Slice(position, sizeEnd);
            int extension = sizeLine.IndexOf((byte)';');
            if (extension >= 0) sizeLine = sizeLine[..extension];
            if (!Utf8Parser.TryParse(sizeLine.Trim((byte)' '), out int size, out int used, 'x') || used == 0 || size < 0)
            {
                throw new FormatException("bad chunk size");
            }
            position += sizeEnd + 2;
            if (size == 0)
            {
                // Trailers, if any, end with an empty line.
                int trailersEnd = body[position..].IndexOf(LineEnd);
                while (trailersEnd > 0)
                {
                    position += trailersEnd + 2;
                    trailersEnd = body[position..].IndexOf(LineEnd);
                }
                if (trailersEnd < 0) return false;
                encodedLength = position + 2;
                return true;
            }
            if (body.Length - position < size + 2) return false;
            position += size + 2;
            payloadLength += size;
        }
    }
}
