using System.Buffers;
using System.Text;

namespace Snow.Native.Http;

/// <summary>
/// Turns the raw path of a request-target into the path routes are matched against: percent-decoded, UTF-8
/// decoded, dot segments removed. Refuses what could be read two ways rather than guessing.
/// </summary>
internal static class RequestPathDecoder
{
    /// <summary>
    /// Decodes <paramref name="rawPath"/> (the path only, no query) into <paramref name="destination"/>.
    /// <list type="bullet">
    /// <item>%XX sequences are decoded, and the bytes read as UTF-8; an invalid escape, a decoded control character (0x00-0x1F, 0x7F), invalid or
    /// overlong UTF-8, or a raw non-ASCII byte gives false (answer 400).</item>
    /// <item>"%2F" stays as written, so that a decoded '/' cannot create a new path segment.</item>
    /// <item>Dot segments are removed as in RFC 3986 5.2.4 (also when written as %2E); ".." never climbs above the root.</item>
    /// <item>An empty path (absolute-form "http://host") decodes to "/". A path must otherwise start with '/'.</item>
    /// </list>
    /// A destination of <c>Math.Max(1, rawPath.Length)</c> chars is always enough; when it is too small, false.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> rawPath, Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        if (rawPath.IsEmpty)
        {
            if (destination.IsEmpty)
            {
                return false;
            }

            destination[0] = '/';
            charsWritten = 1;
            return true;
        }

        if (rawPath[0] != (byte)'/')
        {
            return false;
        }

        int written = 0;
        int read = 0;
        while (read < rawPath.Length)
        {
            int escape = rawPath[read..].IndexOf((byte)'%');
            ReadOnlySpan<byte> plain = escape < 0 ? rawPath[read..] : rawPath.Slice(read, escape);
            if (Ascii.ToUtf16(plain, destination[written..], out int plainChars) != OperationStatus.Done)
            {
                // Either a raw byte >= 0x80 (never valid in a request-target) or no room left.
                return false;
            }

            written += plainChars;
            read += plain.Length;
            if (escape < 0)
            {
                break;
            }

            // A decoded control character (NUL, CR, LF, ...) has no business in a path and would let "/a/%0A"
            // match a route anchored with '$', which also matches before a final newline.
            if (!TryDecodeEscape(rawPath, read, out byte first) || first < 0x20 || first == 0x7F)
            {
                return false;
            }

            if (first < 0x80)
            {
                int length = first == (byte)'/' ? 3 : 1;
                if (destination.Length - written < length)
                {
                    return false;
                }

                if (first == (byte)'/')
                {
                    Ascii.ToUtf16(rawPath.Slice(read, 3), destination[written..], out _);
                }
                else
                {
                    destination[written] = (char)first;
                }

                written += length;
                read += 3;
                continue;
            }

            if (!TryDecodeEscapedUtf8(rawPath, ref read, first, destination[written..], out int runeChars))
            {
                return false;
            }

            written += runeChars;
        }

        charsWritten = RemoveDotSegments(destination[..written]);
        return true;
    }

    /// <summary>Reads a multi-byte UTF-8 sequence whose every byte is percent-encoded, starting at the lead byte.</summary>
    private static bool TryDecodeEscapedUtf8(ReadOnlySpan<byte> rawPath, ref int read, byte lead, Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        int length = lead switch
        {
            >= 0xF0 => 4,
            >= 0xE0 => 3,
            >= 0xC0 => 2,
            _ => 0, // a continuation byte cannot start a sequence
        };
        if (length == 0)
        {
            return false;
        }

        Span<byte> sequence = stackalloc byte[4];
        sequence[0] = lead;
        read += 3;
        for (int i = 1; i < length; i++)
        {
            if (read >= rawPath.Length || rawPath[read] != (byte)'%' || !TryDecodeEscape(rawPath, read, out sequence[i]))
            {
                return false;
            }

            read += 3;
        }

        // Rune's decoder refuses overlong forms, surrogates, values above U+10FFFF and bad continuation bytes.
        if (Rune.DecodeFromUtf8(sequence[..length], out Rune rune, out int used) != OperationStatus.Done || used != length)
        {
            return false;
        }

        return rune.TryEncodeToUtf16(destination, out charsWritten);
    }

    private static bool TryDecodeEscape(ReadOnlySpan<byte> rawPath, int percent, out byte value)
    {
        value = 0;
        if (percent + 2 >= rawPath.Length)
        {
            return false;
        }

        int high = HexValue(rawPath[percent + 1]);
        int low = HexValue(rawPath[percent + 2]);
        if (high < 0 || low < 0)
        {
            return false;
        }

        value = (byte)((high << 4) | low);
        return true;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// RFC 3986 5.2.4 on a path that starts with '/', in place (the output never overtakes the input).
    /// Each segment is copied or dropped once, so the work is linear in the path length.
    /// </summary>
    private static int RemoveDotSegments(Span<char> path)
    {
        int read = 0;
        int written = 0;
        while (read < path.Length)
        {
            // path[read] is the '/' that starts a segment.
            int segmentStart = read + 1;
            int nextSlash = path[segmentStart..].IndexOf('/');
            int segmentEnd = nextSlash < 0 ? path.Length : segmentStart + nextSlash;
            ReadOnlySpan<char> segment = path[segmentStart..segmentEnd];
            bool isLast = segmentEnd == path.Length;

            if (segment is ".")
            {
                if (isLast)
                {
                    path[written++] = '/';
                }
            }
            else if (segment is "..")
            {
                int parentSlash = path[..written].LastIndexOf('/');
                written = parentSlash < 0 ? 0 : parentSlash;
                if (isLast)
                {
                    path[written++] = '/';
                }
            }
            else
            {
                path[read..segmentEnd].CopyTo(path[written..]);
                written += segmentEnd - read;
            }

            read = segmentEnd;
        }

        return written;
    }
}
