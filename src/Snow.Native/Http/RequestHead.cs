using System.Text;

namespace Snow.Native.Http;

/// <summary>
/// Everything a request head says, as offsets into the buffer it was parsed from (the span given to
/// <see cref="HttpRequestParser.TryParseHead"/>). One per connection, reused across requests: after the first
/// few requests have sized the header table, parsing allocates nothing.
/// </summary>
internal sealed class RequestHead
{
    private const int InitialHeaderCapacity = 8;

    // One table of (name, value) ranges: one array per request object instead of two.
    private (HeadRange Name, HeadRange Value)[] _headers = [];
    private string? _lastCustomMethod;

    public HttpMethodKind MethodKind { get; private set; }

    /// <summary>The method as a string: a shared literal for known methods, allocated only for other tokens.</summary>
    public string Method { get; private set; } = "";

    public HeadRange MethodRange { get; private set; }

    /// <summary>The request-target exactly as sent.</summary>
    public HeadRange TargetRange { get; private set; }

    /// <summary>For an absolute-form target: its authority ("host[:port]"); otherwise empty.</summary>
    public HeadRange TargetAuthorityRange { get; private set; }

    public RequestTargetForm TargetForm { get; private set; }

    /// <summary>
    /// The path, still percent-encoded. Empty for asterisk- and authority-form, and for an absolute-form target
    /// without a path, which means "/" (see <see cref="GetPath"/>).
    /// </summary>
    public HeadRange PathRange { get; private set; }

    /// <summary>The query without its '?'; see <see cref="HasQuery"/> to tell "/a?" from "/a".</summary>
    public HeadRange QueryRange { get; private set; }

    public bool HasQuery { get; private set; }

    public HttpVersionKind Version { get; private set; }

    public int HeaderCount { get; private set; }

    /// <summary>The body length from Content-Length, or -1 when there is none (chunked, or no body).</summary>
    public long ContentLength { get; private set; } = -1;

    public bool IsChunked { get; private set; }

    /// <summary>Whether the connection may carry another request after this one.</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>An HTTP/1.1 client asked for "100 Continue" before sending the body.</summary>
    public bool ExpectContinue { get; private set; }

    /// <summary>
    /// The host the request is for: the authority of an absolute-form target, otherwise the Host header value
    /// (empty when absent, or when sent empty).
    /// </summary>
    public HeadRange HostRange { get; private set; }

    /// <summary>Bytes of the head, from the first byte given (leading empty lines included) through the final CRLFCRLF.</summary>
    public int HeadLength { get; private set; }

    /// <summary>Whether a body follows the head.</summary>
    public bool HasBody => IsChunked || ContentLength > 0;

    // Where the search for the end of the head stopped, so that more bytes resume it instead of restarting.
    // Only trusted when the caller's "scanned" matches ScanResume: a caller that loses it simply rescans.
    internal int ScanResume { get; set; }

    internal int ScanLineStart { get; set; }

    internal int ScanHeadersStart { get; set; } = -1;

    internal int ScanHeaderCount { get; set; }

    public ReadOnlySpan<byte> GetPath(ReadOnlySpan<byte> buffer) =>
        PathRange.IsEmpty && TargetForm == RequestTargetForm.Absolute ? "/"u8 : PathRange.Of(buffer);

    public HeadRange GetHeaderNameRange(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)HeaderCount, nameof(index));
        return _headers[index].Name;
    }

    public HeadRange GetHeaderValueRange(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)HeaderCount, nameof(index));
        return _headers[index].Value;
    }

    /// <summary>Finds the first header with this name (ASCII, case-insensitive) and gives its trimmed value.</summary>
    public bool TryGetHeader(ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            HeadRange candidate = _headers[i].Name;
            if (candidate.Length == name.Length && Ascii.EqualsIgnoreCase(candidate.Of(buffer), name))
            {
                value = _headers[i].Value.Of(buffer);
                return true;
            }
        }

        value = default;
        return false;
    }

    public HeaderEnumerator EnumerateHeaders(ReadOnlySpan<byte> buffer) => new(this, buffer);

    /// <summary>Forgets the previous request; keeps the header table so the next request reuses it.</summary>
    public void Reset()
    {
        ClearFields();
        ForgetScan();
    }

    /// <summary>Forgets where an incomplete head's scan stopped; the fields are cleared when the next head is parsed.</summary>
    internal void ForgetScan()
    {
        ScanResume = 0;
        ScanLineStart = 0;
        ScanHeadersStart = -1;
        ScanHeaderCount = 0;
    }

    internal void ClearFields()
    {
        MethodKind = HttpMethodKind.Custom;
        Method = "";
        MethodRange = default;
        TargetRange = default;
        TargetAuthorityRange = default;
        TargetForm = RequestTargetForm.Origin;
        PathRange = default;
        QueryRange = default;
        HasQuery = false;
        Version = HttpVersionKind.Http11;
        HeaderCount = 0;
        ContentLength = -1;
        IsChunked = false;
        KeepAlive = false;
        ExpectContinue = false;
        HostRange = default;
        HeadLength = 0;
    }

    internal void SetMethod(HttpMethodKind kind, HeadRange range, ReadOnlySpan<byte> methodBytes)
    {
        MethodKind = kind;
        MethodRange = range;
        Method = HttpMethodNames.Of(kind) ?? CustomMethod(methodBytes);
    }

    internal void SetTarget(HeadRange target, RequestTargetForm form, HeadRange path, HeadRange query, bool hasQuery)
    {
        TargetRange = target;
        TargetForm = form;
        PathRange = path;
        QueryRange = query;
        HasQuery = hasQuery;
    }

    internal void SetTargetAuthority(HeadRange authority) => TargetAuthorityRange = authority;

    internal void SetVersion(HttpVersionKind version) => Version = version;

    internal void AddHeader(HeadRange name, HeadRange value)
    {
        if (HeaderCount == _headers.Length)
        {
            int capacity = Math.Max(InitialHeaderCapacity, _headers.Length * 2);
            Array.Resize(ref _headers, capacity);
        }

        _headers[HeaderCount] = (name, value);
        HeaderCount++;
    }

    internal void SetFraming(long contentLength, bool isChunked, bool keepAlive, bool expectContinue, HeadRange host, int headLength)
    {
        ContentLength = contentLength;
        IsChunked = isChunked;
        KeepAlive = keepAlive;
        ExpectContinue = expectContinue;
        HostRange = host;
        HeadLength = headLength;
    }

    // A client that uses a custom method tends to repeat it on its connection: reuse the string then.
    private string CustomMethod(ReadOnlySpan<byte> methodBytes)
    {
        string? last = _lastCustomMethod;
        if (last is not null && last.Length == methodBytes.Length && Ascii.Equals(methodBytes, last))
        {
            return last;
        }

        last = Encoding.ASCII.GetString(methodBytes);
        _lastCustomMethod = last;
        return last;
    }

    /// <summary>Walks the header fields in the order they were sent, without allocating.</summary>
    public ref struct HeaderEnumerator
    {
        private readonly RequestHead _head;
        private readonly ReadOnlySpan<byte> _buffer;
        private int _index;

        internal HeaderEnumerator(RequestHead head, ReadOnlySpan<byte> buffer)
        {
            _head = head;
            _buffer = buffer;
            _index = -1;
        }

        public readonly RequestHeaderField Current =>
            new(_head._headers[_index].Name.Of(_buffer), _head._headers[_index].Value.Of(_buffer));

        public bool MoveNext() => ++_index < _head.HeaderCount;

        public readonly HeaderEnumerator GetEnumerator() => this;
    }
}
