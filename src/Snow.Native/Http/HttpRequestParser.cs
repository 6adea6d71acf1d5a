namespace Snow.Native.Http;

/// <summary>
/// Parses an HTTP/1.1 request head (RFC 9112 sections 2-3, 5-7; RFC 9110 for field semantics) straight from the
/// connection's bytes, allocating nothing. Strict where the RFCs say MUST: framing ambiguities are what request
/// smuggling is made of, so they are refused rather than guessed at.
/// </summary>
internal static partial class HttpRequestParser
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
}
