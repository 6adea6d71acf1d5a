namespace Snow.Native.Http;

// The parts of a complete head: the request line (method, target in its four forms, version) and the header
// fields, with the framing fields (Host, Content-Length, Transfer-Encoding, Connection, Expect) interpreted.
internal static partial class HttpRequestParser
{
    private static bool TryParseRequestLine(ReadOnlySpan<byte> headBytes, int start, int end, RequestHead head, out HttpRequestError error)
    {
        ReadOnlySpan<byte> line = headBytes[start..end];

        int methodEnd = line.IndexOf((byte)' ');
        if (methodEnd < 0)
        {
            error = MalformedRequestLine;
            return false;
        }

        ReadOnlySpan<byte> method = line[..methodEnd];
        if (!HttpCharacters.IsToken(method))
        {
            error = InvalidMethod;
            return false;
        }

        int targetStart = methodEnd + 1;
        int targetLength = line[targetStart..].IndexOf((byte)' ');
        if (targetLength <= 0)
        {
            // No second space, or two spaces in a row: RFC 9112 3 wants exactly one SP between the parts.
            error = MalformedRequestLine;
            return false;
        }

        ReadOnlySpan<byte> target = line.Slice(targetStart, targetLength);
        ReadOnlySpan<byte> version = line[(targetStart + targetLength + 1)..];

        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            head.SetVersion(HttpVersionKind.Http11);
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            head.SetVersion(HttpVersionKind.Http10);
        }
        else
        {
            bool wellFormed = version.Length == 8 && version.StartsWith("HTTP/"u8)
                && char.IsAsciiDigit((char)version[5]) && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]);
            error = wellFormed ? UnsupportedVersion : MalformedVersion;
            return false;
        }

        if (target.IndexOfAnyExcept(HttpCharacters.RequestTarget) >= 0)
        {
            error = InvalidTarget;
            return false;
        }

        HttpMethodKind kind = IdentifyMethod(method);
        head.SetMethod(kind, new HeadRange(start, methodEnd), method);

        int targetOffset = start + targetStart;
        var targetRange = new HeadRange(targetOffset, targetLength);
        if (kind == HttpMethodKind.Connect)
        {
            // Tunnelling is not something this server does; still, only a well-formed authority earns the 501.
            error = HttpCharacters.IsValidHost(target) ? ConnectNotImplemented : InvalidTarget;
            return false;
        }

        if (target[0] == (byte)'/')
        {
            SetPathAndQuery(head, targetRange, RequestTargetForm.Origin, targetOffset, target);
            error = default;
            return true;
        }

        if (target.Length == 1 && target[0] == (byte)'*')
        {
            if (kind != HttpMethodKind.Options)
            {
                error = AsteriskWithoutOptions;
                return false;
            }

            head.SetTarget(targetRange, RequestTargetForm.Asterisk, default, default, hasQuery: false);
            error = default;
            return true;
        }

        return TryParseAbsoluteForm(head, targetRange, targetOffset, target, out error);
    }

    private static bool TryParseAbsoluteForm(RequestHead head, HeadRange targetRange, int targetOffset, ReadOnlySpan<byte> target, out HttpRequestError error)
    {
        int authorityStart;
        if (target.Length >= 7 && HttpCharacters.EqualsLowercaseLiteral(target[..7], "http://"u8))
        {
            authorityStart = 7;
        }
        else if (target.Length >= 8 && HttpCharacters.EqualsLowercaseLiteral(target[..8], "https://"u8))
        {
            authorityStart = 8;
        }
        else
        {
            error = InvalidTarget;
            return false;
        }

        ReadOnlySpan<byte> afterScheme = target[authorityStart..];
        int authorityLength = afterScheme.IndexOfAny((byte)'/', (byte)'?');
        if (authorityLength < 0)
        {
            authorityLength = afterScheme.Length;
        }

        // userinfo ("user@host") is deprecated for http(s) and a known phishing device (RFC 9110 4.2.4).
        ReadOnlySpan<byte> authority = afterScheme[..authorityLength];
        if (!HttpCharacters.IsValidHost(authority) || authority.Contains((byte)'@'))
        {
            error = InvalidTarget;
            return false;
        }

        int pathStart = authorityStart + authorityLength;
        SetPathAndQuery(head, targetRange, RequestTargetForm.Absolute, targetOffset + pathStart, target[pathStart..]);
        head.SetTargetAuthority(new HeadRange(targetOffset + authorityStart, authorityLength));
        error = default;
        return true;
    }

    private static void SetPathAndQuery(RequestHead head, HeadRange target, RequestTargetForm form, int pathOffset, ReadOnlySpan<byte> pathAndQuery)
    {
        int question = pathAndQuery.IndexOf((byte)'?');
        if (question < 0)
        {
            head.SetTarget(target, form, new HeadRange(pathOffset, pathAndQuery.Length), new HeadRange(pathOffset + pathAndQuery.Length, 0), hasQuery: false);
        }
        else
        {
            head.SetTarget(target, form, new HeadRange(pathOffset, question), new HeadRange(pathOffset + question + 1, pathAndQuery.Length - question - 1), hasQuery: true);
        }
    }

    private static HttpMethodKind IdentifyMethod(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => HttpMethodKind.Get,
        3 when method.SequenceEqual("PUT"u8) => HttpMethodKind.Put,
        4 when method.SequenceEqual("POST"u8) => HttpMethodKind.Post,
        4 when method.SequenceEqual("HEAD"u8) => HttpMethodKind.Head,
        5 when method.SequenceEqual("PATCH"u8) => HttpMethodKind.Patch,
        5 when method.SequenceEqual("TRACE"u8) => HttpMethodKind.Trace,
        6 when method.SequenceEqual("DELETE"u8) => HttpMethodKind.Delete,
        7 when method.SequenceEqual("OPTIONS"u8) => HttpMethodKind.Options,
        7 when method.SequenceEqual("CONNECT"u8) => HttpMethodKind.Connect,
        _ => HttpMethodKind.Custom,
    };

    private static bool TryParseHeaderLine(ReadOnlySpan<byte> headBytes, int start, int end, HttpLimits limits, RequestHead head, ref FramingState framing, out HttpRequestError error)
    {
        ReadOnlySpan<byte> line = headBytes[start..end];

        // RFC 9112 5.2: obs-fold is refused; so is whitespace before the first field (RFC 9112 2.2).
        if (HttpCharacters.IsWhitespace(line[0]))
        {
            error = ObsoleteLineFolding;
            return false;
        }

        int colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            error = MalformedHeader;
            return false;
        }

        // RFC 9112 5.1: whitespace between name and colon MUST be refused; the token check covers it.
        ReadOnlySpan<byte> name = line[..colon];
        if (!HttpCharacters.IsToken(name))
        {
            error = InvalidHeaderName;
            return false;
        }

        int valueStart = colon + 1;
        int valueEnd = line.Length;
        while (valueStart < valueEnd && HttpCharacters.IsWhitespace(line[valueStart]))
        {
            valueStart++;
        }

        while (valueEnd > valueStart && HttpCharacters.IsWhitespace(line[valueEnd - 1]))
        {
            valueEnd--;
        }

        ReadOnlySpan<byte> value = line[valueStart..valueEnd];
        if (value.IndexOfAnyExcept(HttpCharacters.FieldValue) >= 0)
        {
            error = InvalidHeaderValue;
            return false;
        }

        if (head.HeaderCount >= limits.MaxRequestHeaderCount)
        {
            error = TooManyHeaders;
            return false;
        }

        var valueRange = new HeadRange(start + valueStart, valueEnd - valueStart);
        head.AddHeader(new HeadRange(start, colon), valueRange);
        return TryInterpretHeader(name, value, valueRange, ref framing, out error);
    }

    /// <summary>Takes note of the fields that decide framing and connection handling.</summary>
    private static bool TryInterpretHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, HeadRange valueRange, ref FramingState framing, out HttpRequestError error)
    {
        error = default;
        switch (name.Length)
        {
            case 4 when HttpCharacters.EqualsLowercaseLiteral(name, "host"u8):
                if (framing.HostSeen)
                {
                    error = DuplicateHost;
                    return false;
                }

                // RFC 9110 7.2: a client with no authority to name sends Host with an empty value.
                if (!value.IsEmpty && !HttpCharacters.IsValidHost(value))
                {
                    error = InvalidHost;
                    return false;
                }

                framing.HostSeen = true;
                framing.HostValue = valueRange;
                return true;

            case 14 when HttpCharacters.EqualsLowercaseLiteral(name, "content-length"u8):
                // Even equal repeated values are refused: a proxy in front may have picked either field.
                if (framing.ContentLength >= 0)
                {
                    error = DuplicateContentLength;
                    return false;
                }

                if (!TryParseContentLength(value, out long contentLength))
                {
                    error = InvalidContentLength;
                    return false;
                }

                framing.ContentLength = contentLength;
                return true;

            case 17 when HttpCharacters.EqualsLowercaseLiteral(name, "transfer-encoding"u8):
                framing.TransferEncodingSeen = true;
                AddTransferCodings(value, ref framing);
                return true;

            case 10 when HttpCharacters.EqualsLowercaseLiteral(name, "connection"u8):
                AddConnectionOptions(value, ref framing);
                return true;

            case 6 when HttpCharacters.EqualsLowercaseLiteral(name, "expect"u8):
                AddExpectations(value, ref framing);
                return true;

            default:
                return true;
        }
    }

    /// <summary>Content-Length = 1*DIGIT (RFC 9110 8.6): no sign, no whitespace, no list, no overflow.</summary>
    private static bool TryParseContentLength(ReadOnlySpan<byte> value, out long contentLength)
    {
        contentLength = 0;
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (byte b in value)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9 || contentLength > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            contentLength = (contentLength * 10) + digit;
        }

        return true;
    }

    private static void AddTransferCodings(ReadOnlySpan<byte> value, ref FramingState framing)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> coding = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (!HttpCharacters.IsToken(coding))
            {
                // Empty elements and transfer-parameters are refused: for framing, strict beats lenient.
                framing.TransferEncodingMalformed = true;
            }
            else if (HttpCharacters.EqualsLowercaseLiteral(coding, "chunked"u8))
            {
                framing.ChunkedCount++;
                framing.LastCodingIsChunked = true;
            }
            else
            {
                framing.OtherCodingSeen = true;
                framing.LastCodingIsChunked = false;
            }

            if (comma < 0)
            {
                return;
            }

            value = value[(comma + 1)..];
        }
    }

    private static void AddConnectionOptions(ReadOnlySpan<byte> value, ref FramingState framing)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> option = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (HttpCharacters.EqualsLowercaseLiteral(option, "close"u8))
            {
                framing.ConnectionClose = true;
            }
            else if (HttpCharacters.EqualsLowercaseLiteral(option, "keep-alive"u8))
            {
                framing.ConnectionKeepAlive = true;
            }

            if (comma < 0)
            {
                return;
            }

            value = value[(comma + 1)..];
        }
    }

    private static void AddExpectations(ReadOnlySpan<byte> value, ref FramingState framing)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> expectation = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (HttpCharacters.EqualsLowercaseLiteral(expectation, "100-continue"u8))
            {
                framing.ExpectContinue = true;
            }
            else if (!expectation.IsEmpty)
            {
                framing.UnsupportedExpectation = true;
            }

            if (comma < 0)
            {
                return;
            }

            value = value[(comma + 1)..];
        }
    }

    /// <summary>What the header fields seen so far say about framing and the connection.</summary>
    private struct FramingState
    {
        public long ContentLength;
        public bool TransferEncodingSeen;
        public bool TransferEncodingMalformed;
        public int ChunkedCount;
        public bool LastCodingIsChunked;
        public bool OtherCodingSeen;
        public bool HostSeen;
        public HeadRange HostValue;
        public bool ConnectionClose;
        public bool ConnectionKeepAlive;
        public bool ExpectContinue;
        public bool UnsupportedExpectation;
    }
}
