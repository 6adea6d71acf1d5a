using System.Buffers;

namespace Snow.Native.Http;

/// <summary>The byte classes of RFC 9110/9112 and RFC 3986, as vectorisable sets.</summary>
internal static class HttpCharacters
{
    private const string Alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>tchar: the characters of a token (method, header name, coding name, ...).</summary>
    public static readonly SearchValues<byte> Token = SearchValues.Create(Ascii(Alphanumerics + "!#$%&'*+-.^_`|~"));

    /// <summary>Bytes allowed inside a field value: HTAB, SP, VCHAR and obs-text.</summary>
    public static readonly SearchValues<byte> FieldValue = SearchValues.Create(FieldValueBytes());

    /// <summary>
    /// Bytes allowed in a request-target: visible ASCII without '#', since a fragment is never part of a request.
    /// </summary>
    public static readonly SearchValues<byte> RequestTarget = SearchValues.Create(RequestTargetBytes());

    /// <summary>reg-name and IPv4address characters: unreserved, sub-delims and '%' of pct-encoded.</summary>
    public static readonly SearchValues<byte> RegName = SearchValues.Create(Ascii(Alphanumerics + "-._~!$&'()*+,;=%"));

    /// <summary>Characters inside "[...]": IPv6 (hex digits, ':', '.'), IPvFuture and a zone identifier.</summary>
    public static readonly SearchValues<byte> IpLiteral = SearchValues.Create(Ascii(Alphanumerics + "-._~!$&'()*+,;=%:"));

    public static bool IsWhitespace(byte value) => value is (byte)' ' or (byte)'\t';

    public static bool IsToken(ReadOnlySpan<byte> value) => !value.IsEmpty && value.IndexOfAnyExcept(Token) < 0;

    /// <summary>
    /// Case-insensitive comparison with a lowercase literal of letters, digits and "-:/". Faster than a general
    /// case-insensitive comparison because it only sets bit 0x20; that is exact as long as
    /// <paramref name="value"/> holds no control characters (0x00-0x1F), which every caller has already refused.
    /// </summary>
    public static bool EqualsLowercaseLiteral(ReadOnlySpan<byte> value, ReadOnlySpan<byte> lowercaseLiteral)
    {
        if (value.Length != lowercaseLiteral.Length)
        {
            return false;
        }

        for (int i = 0; i < value.Length; i++)
        {
            if ((value[i] | 0x20) != lowercaseLiteral[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Removes optional whitespace (SP, HTAB) from both ends.</summary>
    public static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> value)
    {
        int start = 0;
        while (start < value.Length && IsWhitespace(value[start]))
        {
            start++;
        }

        int end = value.Length;
        while (end > start && IsWhitespace(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }

    /// <summary>
    /// Host = uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): an IP literal in brackets, or a reg-name /
    /// IPv4 address, then optionally ':' and decimal digits.
    /// </summary>
    public static bool IsValidHost(ReadOnlySpan<byte> value)
    {
        ReadOnlySpan<byte> port;
        if (value.IsEmpty)
        {
            return false;
        }

        if (value[0] == (byte)'[')
        {
            int close = value.IndexOf((byte)']');
            if (close < 2 || value[1..close].IndexOfAnyExcept(IpLiteral) >= 0)
            {
                return false;
            }

            ReadOnlySpan<byte> afterLiteral = value[(close + 1)..];
            if (afterLiteral.IsEmpty)
            {
                return true;
            }

            if (afterLiteral[0] != (byte)':')
            {
                return false;
            }

            port = afterLiteral[1..];
        }
        else
        {
            int colon = value.IndexOf((byte)':');
            ReadOnlySpan<byte> host = colon < 0 ? value : value[..colon];
            if (host.IsEmpty || host.IndexOfAnyExcept(RegName) >= 0)
            {
                return false;
            }

            if (colon < 0)
            {
                return true;
            }

            port = value[(colon + 1)..];
        }

        // RFC 3986 allows an empty port ("host:"), and a second ':' shows up here as a non-digit.
        return port.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;
    }

    private static byte[] Ascii(string characters)
    {
        var bytes = new byte[characters.Length];
        for (int i = 0; i < characters.Length; i++)
        {
            bytes[i] = (byte)characters[i];
        }

        return bytes;
    }

    private static byte[] FieldValueBytes()
    {
        var bytes = new List<byte> { (byte)'\t' };
        for (int b = 0x20; b <= 0xFF; b++)
        {
            if (b != 0x7F)
            {
                bytes.Add((byte)b);
            }
        }

        return bytes.ToArray();
    }

    private static byte[] RequestTargetBytes()
    {
        var bytes = new List<byte>();
        for (int b = 0x21; b <= 0x7E; b++)
        {
            if (b != '#')
            {
                bytes.Add((byte)b);
            }
        }

        return bytes.ToArray();
    }
}
