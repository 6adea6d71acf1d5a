using System.Text;
using System.Text.RegularExpressions;
using Snow.Native.Http;

namespace Snow.Native;

/// <summary>
/// One request: method, URL, decoded path, query, protocol, headers, cookies, body and route values. Everything
/// is read lazily from the head the parser left, so a handler pays only for what it looks at.
/// A request object is the server's, reused for another request once its response has been sent: do not keep it
/// beyond that.
/// </summary>
public sealed class HttpRequest
{
    private const string Http11 = "HTTP/1.1";
    private const string Http10 = "HTTP/1.0";

    // The head (and, while bound to the read buffer, the body) live in _bytes: the head from _headStart, the body
    // at [_bodyStart, _bodyStart + _bodyLength).
    private byte[] _bytes = [];
    private int _headStart;
    private int _bodyStart;
    private int _bodyLength;
    private bool _detached;

    // The path, percent-decoded once while routing; the string is made only if a handler asks for it.
    private char[] _pathChars = [];
    private int _pathLength = -1;

    private string? _url;
    private string? _path;
    private string? _queryString;
    private QueryCollection? _query;
    private RequestHeaders? _headers;
    private IReadOnlyDictionary<string, string>? _cookies;
    private byte[]? _bodyArray;
    private IRequestBodySource? _bodySource;
    private int _bodyReadPosition;
    private RequestBodyStream? _bodyStream;
    private IReadOnlyDictionary<string, string>? _routeValues;
    private CancellationTokenSource? _abortedSource;
    private volatile bool _isAborted;

    internal HttpRequest()
    {
    }

    /// <summary>The method, as sent ("GET", "POST", ...).</summary>
    public string Method => Head.Method;

    /// <summary>The request target as sent, undecoded: "/search?q=snow%20flake".</summary>
    public string Url => _url ??= Encoding.ASCII.GetString(Head.TargetRange.Of(HeadSpan));

    /// <summary>The path, percent-decoded (except %2F) with dot segments removed: "/search".</summary>
    public string Path => _path ??= DecodedPath();

    /// <summary>The query string without '?', undecoded; empty when there is none.</summary>
    public string QueryString => _queryString ??= !Head.HasQuery || Head.QueryRange.IsEmpty
        ? ""
        : Encoding.ASCII.GetString(Head.QueryRange.Of(HeadSpan));

    /// <summary>The query, parsed and decoded; a name may have several values.</summary>
    public QueryCollection Query => _query ??= QueryCollection.Parse(QueryString);

    /// <summary>"HTTP/1.1" or "HTTP/1.0".</summary>
    public string Protocol => Head.Version == HttpVersionKind.Http11 ? Http11 : Http10;

    /// <summary>True when the request came over HTTPS.</summary>
    public bool IsHttps => Tls is not null;

    /// <summary>"https" or "http".</summary>
    public string Scheme => Tls is null ? "http" : "https";

    /// <summary>The certificate the client presented during the TLS handshake (see
    /// <see cref="HttpsOptions.ClientCertificateMode"/>); null without one, or over plain HTTP.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate => Tls?.ClientCertificate;

    /// <summary>The TLS session the request came through; null over plain HTTP.</summary>
    internal Transport.Tls.ITlsSession? Tls { get; set; }

    /// <summary>Headers, case-insensitive by name; repeated names keep every value in order.</summary>
    public RequestHeaders Headers => _headers ??= RequestHeaders.FromHead(Head, HeadSpan);

    /// <summary>Cookies from the Cookie headers; the first value of a repeated name wins.</summary>
    public IReadOnlyDictionary<string, string> Cookies => _cookies ??= CookieParser.Parse(Headers.GetValues("Cookie"));

    /// <summary>Values of the named groups of the route that matched.</summary>
    public IReadOnlyDictionary<string, string> RouteValues => _routeValues ??= ReadRouteValues();

    /// <summary>The route that matched.</summary>
    internal Route? MatchedRoute { get; set; }

    /// <summary>For a route with named groups: the match routing made, read by <see cref="RouteValues"/>.</summary>
    internal Match? RouteMatch { get; set; }

    /// <summary>
    /// The body bytes (a copy made on first use; empty when there is no body). Not for a route that streams its
    /// body (<see cref="Route.StreamBody"/>): read <see cref="ReadBodyAsync"/> or <see cref="BodyStream"/> there.
    /// </summary>
    public byte[] Body => _bodyArray ??= BufferedBody.IsEmpty ? [] : BufferedBody.ToArray();

    /// <summary>The body without a copy; valid while the handler runs. Not for a route that streams its body.</summary>
    public ReadOnlySpan<byte> BodySpan => _bodyArray ?? BufferedBody;

    /// <summary>
    /// The body's length: for a buffered body the bytes received; for a streamed one the Content-Length sent, or
    /// -1 when the body is chunked (its length is known only at its end).
    /// </summary>
    public long ContentLength => _bodySource is null ? _bodyLength : Head.ContentLength;

    /// <summary>Whether the request has a body (a Content-Length above 0, or chunked).</summary>
    public bool HasBody => Head.HasBody;

    /// <summary>True when the route streams this request's body: it is read with <see cref="ReadBodyAsync"/> as it arrives.</summary>
    public bool IsBodyStreamed => _bodySource is not null;

    /// <summary>The body as text, decoded with the charset of Content-Type (UTF-8 when none or unknown).</summary>
    public string BodyText => GetBodyText(null);

    /// <summary>The body as text with <paramref name="encoding"/>, or the Content-Type charset when null.</summary>
    public string GetBodyText(Encoding? encoding) => (encoding ?? CharsetOf(Headers["Content-Type"])).GetString(BodySpan);

    /// <summary>An application/x-www-form-urlencoded body, parsed.</summary>
    public QueryCollection Form => QueryCollection.Parse(Encoding.ASCII.GetString(BodySpan));

    /// <summary>
    /// Reads the next bytes of the body into <paramref name="buffer"/>: the count read, 0 at the end of the body.
    /// For a streamed body the bytes come as the client sends them, and the server reads the socket only as fast
    /// as they are taken (back-pressure); for a buffered one they come from <see cref="Body"/>. May be called from
    /// any thread, one read at a time. A client that leaves or breaks the framing fails the read with an
    /// <see cref="IOException"/>.
    /// </summary>
    public ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_bodySource is not null) return _bodySource.ReadAsync(buffer, cancellationToken);
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
        ReadOnlySpan<byte> rest = BodySpan[_bodyReadPosition..];
        int count = Math.Min(rest.Length, buffer.Length);
        rest[..count].CopyTo(buffer.Span);
        _bodyReadPosition += count;
        return new ValueTask<int>(count);
    }

    /// <summary>The body as a read-only <see cref="Stream"/> over <see cref="ReadBodyAsync"/>.</summary>
    public Stream BodyStream => _bodyStream ??= new RequestBodyStream(this);

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
    public bool KeepAlive => Head.KeepAlive;

    // ---- The server's side. ----

    /// <summary>The parsed head: the one representation of it, filled by the parser and read by every property above.</summary>
    internal RequestHead Head { get; } = new();

    /// <summary>The parser's resume point while this request's head is incomplete.</summary>
    internal int Scanned;

    internal bool IsHeadRequest => Head.MethodKind == HttpMethodKind.Head;

    internal bool IsHttp11 => Head.Version == HttpVersionKind.Http11;

    /// <summary>The still-encoded path; "/" for a target without one (asterisk- or authority-form).</summary>
    internal ReadOnlySpan<byte> RawPath
    {
        get
        {
            ReadOnlySpan<byte> raw = Head.PathRange.Of(HeadSpan);
            return raw.IsEmpty ? "/"u8 : raw;
        }
    }

    /// <summary>Points the request at its head (parsed from <paramref name="bytes"/> at <paramref name="headStart"/>) and buffered body; nothing is copied.</summary>
    internal void Bind(byte[] bytes, int headStart, int bodyStart, int bodyLength)
    {
        _bytes = bytes;
        _headStart = headStart;
        _bodyStart = bodyStart;
        _bodyLength = bodyLength;
        _detached = false;
    }

    /// <summary>The body will be streamed from <paramref name="source"/> instead of buffered.</summary>
    internal void StreamBodyFrom(IRequestBodySource source) => _bodySource = source;

    /// <summary>Decodes the path into the request's own scratch; false for an encoding the server refuses.</summary>
    internal bool TryDecodePath()
    {
        ReadOnlySpan<byte> raw = RawPath;
        if (_pathChars.Length < raw.Length + 1) _pathChars = new char[Math.Max(raw.Length + 1, 16)];
        if (!RequestPathDecoder.TryDecode(raw, _pathChars, out int written))
        {
            _pathLength = -1;
            return false;
        }
        _pathLength = written;
        return true;
    }

    /// <summary>The decoded path (valid after <see cref="TryDecodePath"/> succeeded).</summary>
    internal ReadOnlySpan<char> DecodedPathSpan => _pathChars.AsSpan(0, Math.Max(0, _pathLength));

    /// <summary>Forgets the request, keeping the object (and its header table and path scratch) for the next.</summary>
    internal void Reset()
    {
        Head.ForgetScan(); // the parser clears the fields when it completes the next head

        Scanned = 0;
        Tls = null;
        _bytes = [];
        _headStart = _bodyStart = _bodyLength = 0;
        _detached = false;
        _pathLength = -1;
        _url = null;
        _path = null;
        _queryString = null;
        _query = null;
        _headers = null;
        _cookies = null;
        _bodyArray = null;
        _bodySource = null;
        _bodyReadPosition = 0;
        _bodyStream = null;
        MatchedRoute = null;
        RouteMatch = null;
        _routeValues = null;
        _isAborted = false;
        if (_abortedSource is not null)
        {
            _abortedSource.Dispose();
            _abortedSource = null;
        }
    }

    /// <summary>
    /// Copies the head and the buffered body out of the connection's read buffer into one exact-size array, so
    /// the buffer can go back to the pool while the request waits (parked or awaiting).
    /// </summary>
    internal void Detach()
    {
        if (_detached) return;
        int headLength = Head.HeadLength;
        var copy = new byte[headLength + _bodyLength];
        _bytes.AsSpan(_headStart, headLength).CopyTo(copy);
        if (_bodyLength > 0) _bytes.AsSpan(_bodyStart, _bodyLength).CopyTo(copy.AsSpan(headLength));
        _bytes = copy;
        _headStart = 0;
        _bodyStart = headLength;
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

    private ReadOnlySpan<byte> HeadSpan => _bytes.AsSpan(_headStart, Head.HeadLength);

    private ReadOnlySpan<byte> BufferedBody
    {
        get
        {
            if (_bodySource is not null)
            {
                throw new InvalidOperationException(
                    "This route streams its request body (Route.StreamBody): read it with ReadBodyAsync or BodyStream.");
            }
            return _bodyLength == 0 ? default : _bytes.AsSpan(_bodyStart, _bodyLength);
        }
    }

    private string DecodedPath()
    {
        if (_pathLength >= 0) return new string(_pathChars, 0, _pathLength);
        ReadOnlySpan<byte> raw = RawPath;
        return TryDecodePath() ? new string(_pathChars, 0, _pathLength) : Encoding.ASCII.GetString(raw);
    }

    private IReadOnlyDictionary<string, string> ReadRouteValues()
    {
        if (MatchedRoute is not { HasNamedGroups: true } route || RouteMatch is not { Success: true } match) return EmptyRouteValues;
        var values = new Dictionary<string, string>(route.GroupNames.Length, StringComparer.Ordinal);
        foreach (string name in route.GroupNames)
        {
            Group group = match.Groups[name];
            if (group.Success) values[name] = group.Value;
        }
        return values;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyRouteValues = new Dictionary<string, string>();

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

    /// <summary>"GET /path HTTP/1.1": the request line, for logs.</summary>
    public override string ToString() => $"{Method} {Url} {Protocol}";
}

/// <summary>Where a streamed request body comes from: the protocol that decodes its framing.</summary>
internal interface IRequestBodySource
{
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
