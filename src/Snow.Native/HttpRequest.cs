using System.Text;
using Snow.Native.Http;

namespace Snow.Native;

/// <summary>
/// One request: method, URL, decoded path, query, protocol, headers, cookies, body and route values. Everything
/// is read lazily from the request's bytes, so a handler pays only for what it looks at.
/// A request object belongs to its connection and is reused for the connection's next request once the response
/// has been sent: do not keep it beyond that.
/// </summary>
public sealed class HttpRequest
{
    private const string Http11 = "HTTP/1.1";
    private const string Http10 = "HTTP/1.0";

    // The request head (and, while bound to the read buffer, the body) live in _bytes; offsets are absolute.
    private byte[] _bytes = [];
    private RequestLayout _layout;
    private bool _detached;

    private string? _url;
    private string? _path;
    private string? _queryString;
    private QueryCollection? _query;
    private RequestHeaders? _headers;
    private IReadOnlyDictionary<string, string>? _cookies;
    private byte[]? _bodyArray;
    private CancellationTokenSource? _abortedSource;
    private volatile bool _isAborted;

    internal HttpRequest()
    {
    }

    /// <summary>The method, as sent ("GET", "POST", ...).</summary>
    public string Method { get; private set; } = "GET";

    /// <summary>The request target as sent, undecoded: "/search?q=snow%20flake".</summary>
    public string Url => _url ??= Encoding.ASCII.GetString(Span(_layout.TargetStart, _layout.TargetLength));

    /// <summary>The path, percent-decoded (except %2F) with dot segments removed: "/search".</summary>
    public string Path => _path ??= DecodePath();

    /// <summary>The query string without '?', undecoded; empty when there is none.</summary>
    public string QueryString => _queryString ??= _layout.QueryLength <= 0
        ? ""
        : Encoding.ASCII.GetString(Span(_layout.QueryStart, _layout.QueryLength));

    /// <summary>The query, parsed and decoded; a name may have several values.</summary>
    public QueryCollection Query => _query ??= QueryCollection.Parse(QueryString);

    /// <summary>"HTTP/1.1" or "HTTP/1.0".</summary>
    public string Protocol => _layout.IsHttp11 ? Http11 : Http10;

    /// <summary>Headers, case-insensitive by name; repeated names keep every value in order.</summary>
    public RequestHeaders Headers => _headers ??= RequestHeaders.Parse(Span(_layout.HeadersStart, _layout.HeadersLength));

    /// <summary>Cookies from the Cookie headers; the first value of a repeated name wins.</summary>
    public IReadOnlyDictionary<string, string> Cookies => _cookies ??= CookieParser.Parse(Headers.GetValues("Cookie"));

    /// <summary>Values of the named groups of the route that matched.</summary>
    public IReadOnlyDictionary<string, string> RouteValues =>
        _routeValues ??= MatchedRoute is { HasNamedGroups: true } route ? Router.RouteValues(route, Path) : EmptyRouteValues;

    /// <summary>The route that matched; its named groups are read on first use of <see cref="RouteValues"/>.</summary>
    internal Route? MatchedRoute { get; set; }

    private IReadOnlyDictionary<string, string>? _routeValues;

    /// <summary>The body bytes (a copy made on first use; empty when there is no body).</summary>
    public byte[] Body => _bodyArray ??= _layout.BodyLength == 0 ? [] : Span(_layout.BodyStart, _layout.BodyLength).ToArray();

    /// <summary>The body without a copy; valid while the handler runs.</summary>
    public ReadOnlySpan<byte> BodySpan => _bodyArray ?? Span(_layout.BodyStart, _layout.BodyLength);

    public int ContentLength => _layout.BodyLength;

    /// <summary>The body as text, decoded with the charset of Content-Type (UTF-8 when none or unknown).</summary>
    public string BodyText => GetBodyText(null);

    /// <summary>The body as text with <paramref name="encoding"/>, or the Content-Type charset when null.</summary>
    public string GetBodyText(Encoding? encoding) => (encoding ?? CharsetOf(Headers["Content-Type"])).GetString(BodySpan);

    /// <summary>An application/x-www-form-urlencoded body, parsed.</summary>
    public QueryCollection Form => QueryCollection.Parse(Encoding.ASCII.GetString(BodySpan));

    /// <summary>True once the client went away before the response was sent.</summary>
    public bool IsAborted => _isAborted;

    /// <summary>Cancelled when the client disconnects before the response is sent.</summary>
    public CancellationToken Aborted
    {
        get
        {
            if (_abortedSource is null)
            {
                var source = new CancellationTokenSource();
                if (Interlocked.CompareExchange(ref _abortedSource, source, null) is not null) source.Dispose();
                else if (_isAborted) source.Cancel();
            }
            return _abortedSource!.Token;
        }
    }

    /// <summary>Whether the connection may carry another request after this one.</summary>
    public bool KeepAlive => _layout.KeepAlive;

    internal RequestLayout Layout => _layout;

    private static readonly IReadOnlyDictionary<string, string> EmptyRouteValues = new Dictionary<string, string>();

    /// <summary>Points the request at a parsed head in <paramref name="bytes"/>; nothing is copied.</summary>
    internal void Bind(byte[] bytes, in RequestLayout layout, string method)
    {
        _bytes = bytes;
        _layout = layout;
        _detached = false;
        Method = method;
    }

    /// <summary>Forgets the previous request, keeping the object for the next.</summary>
    internal void Reset()
    {
        _bytes = [];
        _layout = default;
        _detached = false;
        _url = null;
        _path = null;
        _queryString = null;
        _query = null;
        _headers = null;
        _cookies = null;
        _bodyArray = null;
        MatchedRoute = null;
        _routeValues = null;
        _isAborted = false;
        if (_abortedSource is not null)
        {
            _abortedSource.Dispose();
            _abortedSource = null;
        }
    }

    /// <summary>
    /// Copies the head and body out of the shared read buffer into one exact-size array, so the connection can
    /// give its buffer back while the request waits (parked or awaiting).
    /// </summary>
    internal void Detach()
    {
        if (_detached) return;
        int headStart = _layout.HeadStart;
        int headLength = _layout.HeadLength;
        int bodyLength = _layout.BodyLength;
        var copy = new byte[headLength + bodyLength];
        _bytes.AsSpan(headStart, headLength).CopyTo(copy);
        if (bodyLength > 0) _bytes.AsSpan(_layout.BodyStart, bodyLength).CopyTo(copy.AsSpan(headLength));
        _layout = _layout.Rebased(-headStart, headLength);
        _bytes = copy;
        _detached = true;
    }

    internal void MarkAborted()
    {
        _isAborted = true;
        try
        {
            _abortedSource?.Cancel();
        }
        catch (AggregateException)
        {
            // A user's cancellation callback threw; the abort itself stands.
        }
    }

    internal ReadOnlySpan<byte> RawPath => Span(_layout.PathStart, _layout.PathLength);

    private ReadOnlySpan<byte> Span(int start, int length) => length <= 0 ? default : _bytes.AsSpan(start, length);

    private string DecodePath()
    {
        ReadOnlySpan<byte> raw = RawPath;
        if (raw.IsEmpty) return "/";
        Span<char> scratch = raw.Length < 512 ? stackalloc char[raw.Length + 1] : new char[raw.Length + 1];
        return RequestPathDecoder.TryDecode(raw, scratch, out int written) ? new string(scratch[..written]) : Encoding.ASCII.GetString(raw);
    }

    private static Encoding CharsetOf(string? contentType)
    {
        if (contentType is null) return Encoding.UTF8;
        int at = contentType.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return Encoding.UTF8;
        string name = contentType[(at + 8)..].Split(';')[0].Trim().Trim('"');
        return name.ToLowerInvariant() switch
        {
            "utf-8" or "utf8" => Encoding.UTF8,
            "us-ascii" or "ascii" => Encoding.ASCII,
            "iso-8859-1" or "latin1" => Encoding.Latin1,
            "utf-16" => Encoding.Unicode,
            _ => Encoding.UTF8,
        };
    }

    public override string ToString() => $"{Method} {Url} {Protocol}";
}

/// <summary>Where the parts of a request sit in its byte array (absolute offsets).</summary>
internal struct RequestLayout
{
    public int HeadStart;
    public int HeadLength;
    public int TargetStart;
    public int TargetLength;
    public int PathStart;
    public int PathLength;
    public int QueryStart;
    public int QueryLength;
    public int HeadersStart;
    public int HeadersLength;
    public int BodyStart;
    public int BodyLength;
    public bool IsHttp11;
    public bool KeepAlive;

    /// <summary>The same layout after the head moved by <paramref name="shift"/> and the body to just after it.</summary>
    public readonly RequestLayout Rebased(int shift, int headLength)
    {
        RequestLayout moved = this;
        moved.HeadStart += shift;
        moved.TargetStart += shift;
        moved.PathStart += shift;
        moved.QueryStart += shift;
        moved.HeadersStart += shift;
        moved.BodyStart = headLength;
        return moved;
    }
}
