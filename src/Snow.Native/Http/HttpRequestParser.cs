namespace Snow.Native.Http;

/// <summary>
/// Parses an HTTP/1.1 request head (RFC 9112 sections 2-3, 5-7; RFC 9110 for field semantics) straight from the
/// connection's bytes, allocating nothing. Strict where the RFCs say MUST: framing ambiguities are what request
/// smuggling is made of, so they are refused rather than guessed at.
/// </summary>
internal static class HttpRequestParser
{
    private static readonly HttpRequestError BareLineFeed = new(400, "Bare LF in request head");
    private static readonly HttpRequestError BareCarriageReturn = new(400, "Bare CR in request head");
    private static readonly HttpRequestError TooManyEmptyLines = new(400, "Too many empty lines before the request line");
    private static readonly HttpRequestError RequestLineTooLong = new(414, "Request line too long");
    private static readonly HttpRequestError HeadersTooLarge = new(431, "Request header fields too large");
    private static readonly HttpRequestError TooManyHeaders = new(431, "Too many request header fields");
    private static readonly HttpRequestError MalformedRequestLine = new(400, "Malformed request line");
    private static readonly HttpRequestError InvalidMethod = new(400, "Invalid method");
    private static readonly HttpRequestError InvalidTarget = new(400, "Invalid request target");
    private static readonly HttpRequestError AsteriskWithoutOptions = new(400, "Asterisk-form target is only for OPTIONS");
    private static readonly HttpRequestError MalformedVersion = new(400, "Malformed HTTP version");
    private static readonly HttpRequestError UnsupportedVersion = new(505, "HTTP version not supported");
    private static readonly HttpRequestError ConnectNotImplemented = new(501, "CONNECT not implemented");
    private static readonly HttpRequestError ObsoleteLineFolding = new(400, "Header line starts with whitespace (obs-fold)");
    private static readonly HttpRequestError MalformedHeader = new(400, "Malformed header field");
    private static readonly HttpRequestError InvalidHeaderName = new(400, "Invalid header field name");
    private static readonly HttpRequestError InvalidHeaderValue = new(400, "Invalid character in header field value");
    private static readonly HttpRequestError MissingHost = new(400, "Missing Host header");
    private static readonly HttpRequestError DuplicateHost = new(400, "More than one Host header");
    private static readonly HttpRequestError InvalidHost = new(400, "Invalid Host header");
    private static readonly HttpRequestError InvalidContentLength = new(400, "Invalid Content-Length");
    private static readonly HttpRequestError DuplicateContentLength = new(400, "More than one Content-Length");
    private static readonly HttpRequestError BodyTooLarge = new(413, "Request body too large");
    private static readonly HttpRequestError ContentLengthWithTransferEncoding = new(400, "Both Transfer-Encoding and Content-Length");
    private static readonly HttpRequestError TransferEncodingInHttp10 = new(400, "Transfer-Encoding in an HTTP/1.0 request");
    private static readonly HttpRequestError MalformedTransferEncoding = new(400, "Malformed Transfer-Encoding");
    private static readonly HttpRequestError ChunkedNotFinal = new(400, "Transfer-Encoding does not end with a single chunked");
    private static readonly HttpRequestError UnsupportedTransferCoding = new(501, "Transfer coding not implemented");
    private static readonly HttpRequestError LengthRequired = new(411, "Length required");
    private static readonly HttpRequestError UnsupportedExpectation = new(417, "Expectation not supported");

    /// <summary>
    /// Parses the request head at the start of <paramref name="input"/>.
    /// </summary>
    /// <param name="input">Everything received of this request so far (and possibly of the ones pipelined after it).</param>
    /// <param name="limits">The bounds to enforce, also while the head is still incomplete.</param>
    /// <param name="head">Filled on <see cref="HttpParseStatus.Complete"/>; offsets are relative to <paramref name="input"/>.</param>
    /// <param name="scanned">
    /// 0 for a new request. On NeedMoreData it records how far the search for the end of the head got (together with
    /// state kept in <paramref name="head"/>), so the next call only looks at the new bytes; pass it back unchanged with
    /// the same bytes plus more. Set back to 0 on Complete and Error.
    /// </param>
    /// <param name="error">On Error: the status code to answer, after which the connection must be closed.</param>
    public static HttpParseStatus TryParseHead(ReadOnlySpan<byte> input, HttpLimits limits, RequestHead head, ref int scanned, out HttpRequestError error)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(head);

        HttpParseStatus status = FindEndOfHead(input, limits, head, ref scanned, out int headLength, out error);
        if (status != HttpParseStatus.Complete)
        {
            if (status == HttpParseStatus.Error)
            {
                scanned = 0;
            }

            return status;
        }

        scanned = 0;
        head.ScanResume = 0;
        return ParseHead(input[..headLength], limits, head, out error);
    }

    /// <summary>
    /// Looks for the empty line that ends the head, checking line endings and the size limits on the way.
    /// Linear over all calls for one head: each byte is looked at once, however the bytes are split.
    /// </summary>
    private static HttpParseStatus FindEndOfHead(ReadOnlySpan<byte> input, HttpLimits limits, RequestHead head, ref int scanned, out int headLength, out HttpRequestError error)
    {
        int position, lineStart, headersStart, headerCount;
        if (scanned > 0 && scanned <= input.Length && scanned == head.ScanResume)
        {
            position = scanned;
            lineStart = head.ScanLineStart;
            headersStart = head.ScanHeadersStart;
            headerCount = head.ScanHeaderCount;
        }
        else
        {
            position = 0;
            lineStart = 0;
            headersStart = -1; // still before the end of the request line
            headerCount = 0;
        }

        headLength = 0;
        error = default;
        while (true)
        {
            // Only LF is searched for (the fastest search there is); a CR anywhere but before LF is a control
            // character, which the parsing of the complete head refuses wherever it is.
            int offset = input[position..].IndexOf((byte)'\n');
            if (offset < 0)
            {
                position = input.Length;
                break;
            }

            int lineFeed = position + offset;
            if (lineFeed == lineStart || input[lineFeed - 1] != (byte)'\r')
            {
                error = BareLineFeed;
                return HttpParseStatus.Error;
            }

            int nextLine = lineFeed + 1;
            int lineLength = nextLine - lineStart;
            if (lineLength > 2 && input[lineStart] == (byte)'\r')
            {
                // "\r\r\n" must not pass for the empty line that ends the head, nor wait for one.
                error = BareCarriageReturn;
                return HttpParseStatus.Error;
            }

            if (headersStart < 0)
            {
                if (lineLength == 2)
                {
                    // RFC 9112 2.2: ignore empty lines before the request line, but not an endless stream of them.
                    if (nextLine > limits.MaxRequestLineBytes)
                    {
                        error = TooManyEmptyLines;
                        return HttpParseStatus.Error;
                    }
                }
                else
                {
                    if (lineLength > limits.MaxRequestLineBytes)
                    {
                        error = RequestLineTooLong;
                        return HttpParseStatus.Error;
                    }

                    headersStart = nextLine;
                }
            }
            else
            {
                if (lineLength == 2)
                {
                    headLength = nextLine;
                    return HttpParseStatus.Complete;
                }

                if (++headerCount > limits.MaxRequestHeaderCount)
                {
                    error = TooManyHeaders;
                    return HttpParseStatus.Error;
                }

                if (nextLine - headersStart > limits.MaxRequestHeadersTotalBytes)
                {
                    error = HeadersTooLarge;
                    return HttpParseStatus.Error;
                }
            }

            lineStart = nextLine;
            position = nextLine;
        }

        // Incomplete: refuse now if the unfinished line can no longer fit, rather than buffering until it ends.
        int partialLine = input.Length - lineStart;
        if (headersStart < 0)
        {
            // The line still needs at least its LF, so it will be at least one byte longer than what is here.
            if (partialLine >= limits.MaxRequestLineBytes)
            {
                error = RequestLineTooLong;
                return HttpParseStatus.Error;
            }
        }
        else
        {
            bool mayBeFinalEmptyLine = partialLine == 0 || (partialLine == 1 && input[lineStart] == (byte)'\r');
            long smallestTotal = (long)(lineStart - headersStart) + (mayBeFinalEmptyLine ? 0 : partialLine + 1);
            if (smallestTotal > limits.MaxRequestHeadersTotalBytes)
            {
                error = HeadersTooLarge;
                return HttpParseStatus.Error;
            }
        }

        head.ScanResume = position;
        head.ScanLineStart = lineStart;
        head.ScanHeadersStart = headersStart;
        head.ScanHeaderCount = headerCount;
        scanned = position;
        return HttpParseStatus.NeedMoreData;
    }

    /// <summary>
    /// Parses a complete head in which every LF is already known to follow a CR. A bare CR is left inside a line,
    /// where every part of the grammar refuses it as a control character.
    /// </summary>
    private static HttpParseStatus ParseHead(ReadOnlySpan<byte> headBytes, HttpLimits limits, RequestHead head, out HttpRequestError error)
    {
        head.ClearFields();

        int requestLineStart = 0;
        while (headBytes[requestLineStart] == (byte)'\r')
        {
            requestLineStart += 2;
        }

        int requestLineEnd = requestLineStart + headBytes[requestLineStart..].IndexOf((byte)'\n') - 1;
        if (!TryParseRequestLine(headBytes, requestLineStart, requestLineEnd, head, out error))
        {
            return HttpParseStatus.Error;
        }

        bool isHttp11 = head.Version == HttpVersionKind.Http11;
        var framing = new FramingState { ContentLength = -1 };
        int lineStart = requestLineEnd + 2;
        while (true)
        {
            int lineEnd = lineStart + headBytes[lineStart..].IndexOf((byte)'\n') - 1;
            if (lineEnd == lineStart)
            {
                break;
            }

            if (!TryParseHeaderLine(headBytes, lineStart, lineEnd, limits, head, ref framing, out error))
            {
                return HttpParseStatus.Error;
            }

            lineStart = lineEnd + 2;
        }

        if (!framing.HostSeen && isHttp11)
        {
            error = MissingHost;
            return HttpParseStatus.Error;
        }

        bool isChunked = false;
        if (framing.TransferEncodingSeen)
        {
            // RFC 9112 6.1 and 6.3: these are the ambiguities request smuggling relies on.
            if (framing.ContentLength >= 0)
            {
                error = ContentLengthWithTransferEncoding;
                return HttpParseStatus.Error;
            }

            if (!isHttp11)
            {
                error = TransferEncodingInHttp10;
                return HttpParseStatus.Error;
            }

            if (framing.TransferEncodingMalformed)
            {
                error = MalformedTransferEncoding;
                return HttpParseStatus.Error;
            }

            if (!framing.LastCodingIsChunked || framing.ChunkedCount > 1)
            {
                error = ChunkedNotFinal;
                return HttpParseStatus.Error;
            }

            if (framing.OtherCodingSeen)
            {
                error = UnsupportedTransferCoding;
                return HttpParseStatus.Error;
            }

            isChunked = true;
        }
        else if (framing.ContentLength > limits.MaxRequestBodyBytes)
        {
            error = BodyTooLarge;
            return HttpParseStatus.Error;
        }
        else if (framing.ContentLength < 0 && !isHttp11 && head.MethodKind is HttpMethodKind.Post or HttpMethodKind.Put)
        {
            // An HTTP/1.0 body without a length runs until the connection closes; like Kestrel, we refuse that.
            error = LengthRequired;
            return HttpParseStatus.Error;
        }

        if (framing.UnsupportedExpectation)
        {
            error = UnsupportedExpectation;
            return HttpParseStatus.Error;
        }

        bool keepAlive = !framing.ConnectionClose && (isHttp11 || framing.ConnectionKeepAlive);

        // RFC 9110 10.1.1: an HTTP/1.0 client cannot understand 100 Continue, so its expectation is ignored.
        bool expectContinue = framing.ExpectContinue && isHttp11;

        // RFC 9112 3.2.2: with an absolute-form target, the target's authority is the host.
        HeadRange host = head.TargetForm == RequestTargetForm.Absolute ? head.TargetAuthorityRange : framing.HostValue;

        head.SetFraming(isChunked ? -1 : framing.ContentLength, isChunked, keepAlive, expectContinue, host, headBytes.Length);
        error = default;
        return HttpParseStatus.Complete;
    }

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
