namespace Snow.Native.Http;

/// <summary>
/// Decodes a chunked request body (RFC 9112 7.1) incrementally: any split of the input gives the same result,
/// and the decoded data may overwrite the input it came from (output starting at the same memory as input),
/// since the decoder never writes ahead of what it has read.
/// </summary>
internal struct ChunkedBodyDecoder
{
    private static readonly HttpRequestError InvalidChunkSize = new(400, "Invalid chunk size");
    private static readonly HttpRequestError ChunkSizeOverflow = new(400, "Chunk size too large to represent");
    private static readonly HttpRequestError InvalidChunkExtension = new(400, "Invalid chunk extension");
    private static readonly HttpRequestError ChunkSizeLineTooLong = new(400, "Chunk size line too long");
    private static readonly HttpRequestError MissingLineFeed = new(400, "Expected LF after CR in chunked body");
    private static readonly HttpRequestError MissingCrlfAfterData = new(400, "Expected CRLF after chunk data");
    private static readonly HttpRequestError InvalidTrailer = new(400, "Invalid trailer field");
    private static readonly HttpRequestError TrailersTooLarge = new(431, "Trailer fields too large");
    private static readonly HttpRequestError TooManyTrailers = new(431, "Too many trailer fields");
    private static readonly HttpRequestError BodyTooLarge = new(413, "Request body too large");

    private State _state;
    private long _chunkSize;
    private long _chunkRemaining;
    private long _declaredTotal;
    private long _decodedTotal;
    private int _lineBytes;
    private int _trailerBytes;
    private int _trailerCount;

    private enum State : byte
    {
        SizeStart,
        Size,
        ExtensionBeforeSemicolon,
        ExtensionNameStart,
        ExtensionName,
        ExtensionAfterName,
        ExtensionValueStart,
        ExtensionTokenValue,
        ExtensionQuotedValue,
        ExtensionQuotedPair,
        ExtensionAfterQuotedValue,
        SizeLineFeed,
        Data,
        DataCarriageReturn,
        DataLineFeed,
        TrailerLineStart,
        TrailerName,
        TrailerValue,
        TrailerLineFeed,
        FinalLineFeed,
        Complete,
    }

    /// <summary>The whole body, last chunk and trailer section included, has been decoded.</summary>
    public readonly bool IsComplete => _state == State.Complete;

    /// <summary>Body bytes decoded so far.</summary>
    public readonly long DecodedBytes => _decodedTotal;

    public void Reset() => this = default;

    /// <summary>
    /// Decodes as much of <paramref name="input"/> into <paramref name="output"/> as both allow.
    /// NeedMoreData means: give the rest of the input (from <paramref name="consumed"/>) plus more bytes, or more output
    /// room when <paramref name="written"/> filled it. Complete means the body ended; bytes after <paramref name="consumed"/>
    /// belong to the next request.
    /// </summary>
    public HttpParseStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, HttpLimits limits, out int consumed, out int written, out HttpRequestError error)
    {
        ArgumentNullException.ThrowIfNull(limits);

        int read = 0;
        int write = 0;
        error = default;
        while (_state != State.Complete)
        {
            if (_state == State.Data)
            {
                int count = (int)Math.Min(_chunkRemaining, Math.Min(input.Length - read, output.Length - write));
                if (count == 0)
                {
                    break;
                }

                // CopyTo has memmove semantics, and write <= read, so in-place decoding never clobbers unread input.
                input.Slice(read, count).CopyTo(output[write..]);
                read += count;
                write += count;
                _chunkRemaining -= count;
                _decodedTotal += count;
                if (_chunkRemaining == 0)
                {
                    _state = State.DataCarriageReturn;
                }

                continue;
            }

            if (read == input.Length)
            {
                break;
            }

            if (_state is State.TrailerName or State.TrailerValue)
            {
                if (!TryScanTrailerField(input, ref read, limits, out error))
                {
                    break;
                }

                continue;
            }

            byte b = input[read++];
            if (!TryStep(b, limits, out error))
            {
                break;
            }
        }

        consumed = read;
        written = write;
        if (error.StatusCode != 0)
        {
            return HttpParseStatus.Error;
        }

        return _state == State.Complete ? HttpParseStatus.Complete : HttpParseStatus.NeedMoreData;
    }

    /// <summary>Advances the byte-wise part of the grammar: chunk-size lines, CRLFs and trailer line starts.</summary>
    private bool TryStep(byte b, HttpLimits limits, out HttpRequestError error)
    {
        error = default;
        if (_state <= State.ExtensionAfterQuotedValue && b != (byte)'\r' && ++_lineBytes > limits.MaxChunkSizeLineBytes)
        {
            error = ChunkSizeLineTooLong;
            return false;
        }

        switch (_state)
        {
            case State.SizeStart:
                if (!TryAddHexDigit(b, out error))
                {
                    error = InvalidChunkSize;
                    return false;
                }

                _state = State.Size;
                return true;

            case State.Size:
                if (IsHexDigit(b))
                {
                    return TryAddHexDigit(b, out error);
                }

                if (!TryEndChunkSize(limits, out error))
                {
                    return false;
                }

                return TryContinueAfterSizeOrValue(b, out error, InvalidChunkSize);

            case State.ExtensionBeforeSemicolon:
                return TryExpectSemicolon(b, out error);

            case State.ExtensionNameStart:
                if (HttpCharacters.IsWhitespace(b))
                {
                    return true;
                }

                if (!HttpCharacters.Token.Contains(b))
                {
                    error = InvalidChunkExtension;
                    return false;
                }

                _state = State.ExtensionName;
                return true;

            case State.ExtensionName:
                if (HttpCharacters.Token.Contains(b))
                {
                    return true;
                }

                if (b == (byte)'=')
                {
                    _state = State.ExtensionValueStart;
                    return true;
                }

                if (HttpCharacters.IsWhitespace(b))
                {
                    _state = State.ExtensionAfterName;
                    return true;
                }

                return TryContinueAfterSizeOrValue(b, out error, InvalidChunkExtension);

            case State.ExtensionAfterName:
                if (b == (byte)'=')
                {
                    _state = State.ExtensionValueStart;
                    return true;
                }

                return TryExpectSemicolon(b, out error);

            case State.ExtensionValueStart:
                if (HttpCharacters.IsWhitespace(b))
                {
                    return true;
                }

                if (b == (byte)'"')
                {
                    _state = State.ExtensionQuotedValue;
                    return true;
                }

                if (!HttpCharacters.Token.Contains(b))
                {
                    error = InvalidChunkExtension;
                    return false;
                }

                _state = State.ExtensionTokenValue;
                return true;

            case State.ExtensionTokenValue:
                return HttpCharacters.Token.Contains(b) || TryContinueAfterSizeOrValue(b, out error, InvalidChunkExtension);

            case State.ExtensionQuotedValue:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                if (b == (byte)'"')
                {
                    _state = State.ExtensionAfterQuotedValue;
                }
                else if (b == (byte)'\\')
                {
                    _state = State.ExtensionQuotedPair;
                }
                else if (!HttpCharacters.FieldValue.Contains(b))
                {
                    error = InvalidChunkExtension;
                    return false;
                }

                return true;

            case State.ExtensionQuotedPair:
                if (!HttpCharacters.FieldValue.Contains(b))
                {
                    error = InvalidChunkExtension;
                    return false;
                }

                _state = State.ExtensionQuotedValue;
                return true;

            case State.ExtensionAfterQuotedValue:
                return TryContinueAfterSizeOrValue(b, out error, InvalidChunkExtension);

            case State.SizeLineFeed:
                if (b != (byte)'\n')
                {
                    error = MissingLineFeed;
                    return false;
                }

                _lineBytes = 0;
                if (_chunkSize == 0)
                {
                    _state = State.TrailerLineStart;
                }
                else
                {
                    _chunkRemaining = _chunkSize;
                    _state = State.Data;
                }

                return true;

            case State.DataCarriageReturn:
                if (b != (byte)'\r')
                {
                    error = MissingCrlfAfterData;
                    return false;
                }

                _state = State.DataLineFeed;
                return true;

            case State.DataLineFeed:
                if (b != (byte)'\n')
                {
                    error = MissingCrlfAfterData;
                    return false;
                }

                _chunkSize = 0;
                _state = State.SizeStart;
                return true;

            case State.TrailerLineStart:
                if (b == (byte)'\r')
                {
                    _state = State.FinalLineFeed;
                    return true;
                }

                // A trailer field is a header field (RFC 9112 7.1.2): the same rules, obs-fold refused included.
                if (!HttpCharacters.Token.Contains(b))
                {
                    error = InvalidTrailer;
                    return false;
                }

                if (++_trailerCount > limits.MaxRequestHeaderCount)
                {
                    error = TooManyTrailers;
                    return false;
                }

                _state = State.TrailerName;
                return CountTrailerBytes(1, limits, out error);

            case State.TrailerLineFeed:
                if (b != (byte)'\n')
                {
                    error = MissingLineFeed;
                    return false;
                }

                _state = State.TrailerLineStart;
                return CountTrailerBytes(1, limits, out error);

            case State.FinalLineFeed:
                if (b != (byte)'\n')
                {
                    error = MissingLineFeed;
                    return false;
                }

                _state = State.Complete;
                return true;

            default:
                throw new InvalidOperationException("Unexpected chunked decoder state " + _state);
        }
    }

    /// <summary>Validates the rest of a trailer field name or value in bulk, as far as the input goes.</summary>
    private bool TryScanTrailerField(ReadOnlySpan<byte> input, ref int read, HttpLimits limits, out HttpRequestError error)
    {
        ReadOnlySpan<byte> rest = input[read..];
        bool inName = _state == State.TrailerName;
        int stop = inName ? rest.IndexOfAnyExcept(HttpCharacters.Token) : rest.IndexOfAnyExcept(HttpCharacters.FieldValue);
        int taken = stop < 0 ? rest.Length : stop + 1;
        read += taken;
        if (!CountTrailerBytes(taken, limits, out error))
        {
            return false;
        }

        if (stop < 0)
        {
            return true;
        }

        byte terminator = rest[stop];
        if (inName && terminator == (byte)':')
        {
            _state = State.TrailerValue;
            return true;
        }

        if (!inName && terminator == (byte)'\r')
        {
            _state = State.TrailerLineFeed;
            return true;
        }

        // Whitespace before the colon, a control character, a bare LF: all refused as in the head.
        error = InvalidTrailer;
        return false;
    }

    private bool CountTrailerBytes(int count, HttpLimits limits, out HttpRequestError error)
    {
        _trailerBytes += count;
        error = _trailerBytes > limits.MaxRequestHeadersTotalBytes ? TrailersTooLarge : default;
        return error.StatusCode == 0;
    }

    /// <summary>After the size, an extension name, or an extension value: BWS, ';' or the CR that ends the line.</summary>
    private bool TryContinueAfterSizeOrValue(byte b, out HttpRequestError error, HttpRequestError otherwise)
    {
        error = default;
        if (b == (byte)'\r')
        {
            _state = State.SizeLineFeed;
            return true;
        }

        if (b == (byte)';')
        {
            _state = State.ExtensionNameStart;
            return true;
        }

        if (HttpCharacters.IsWhitespace(b))
        {
            _state = State.ExtensionBeforeSemicolon;
            return true;
        }

        error = otherwise;
        return false;
    }

    /// <summary>
    /// In BWS that must lead to ';' or '=' (RFC 9112 7.1.1 allows whitespace there, but not before the CRLF):
    /// stay on whitespace, move on at ';'.
    /// </summary>
    private bool TryExpectSemicolon(byte b, out HttpRequestError error)
    {
        error = default;
        if (HttpCharacters.IsWhitespace(b))
        {
            return true;
        }

        if (b == (byte)';')
        {
            _state = State.ExtensionNameStart;
            return true;
        }

        error = InvalidChunkExtension;
        return false;
    }

    private bool TryAddHexDigit(byte b, out HttpRequestError error)
    {
        error = default;
        int digit = HexValue(b);
        if (digit < 0)
        {
            error = InvalidChunkSize;
            return false;
        }

        if (_chunkSize > (long.MaxValue >> 4))
        {
            error = ChunkSizeOverflow;
            return false;
        }

        _chunkSize = (_chunkSize << 4) | (uint)digit;
        return true;
    }

    /// <summary>The size is known once its digits end: refuse it here if it would take the body over the limit.</summary>
    private bool TryEndChunkSize(HttpLimits limits, out HttpRequestError error)
    {
        error = default;
        if (_chunkSize > limits.MaxRequestBodyBytes - _declaredTotal)
        {
            error = BodyTooLarge;
            return false;
        }

        _declaredTotal += _chunkSize;
        return true;
    }

    private static bool IsHexDigit(byte b) => HexValue(b) >= 0;

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
