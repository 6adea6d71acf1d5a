using System.Text;
using Snow.Native.Http;

namespace Snow.Native;

/// <summary>
/// What a handler answers: a status, content (text or bytes), a content type, headers and cookies. The server adds
/// the framing (Content-Length), Date, Server and Connection headers itself. For a body written piece by piece
/// after the handler returns, see <see cref="StreamingResponse"/>.
/// </summary>
public class HttpResponse
{
    /// <summary>The content type used when none is given, as in the original Snow (and Django).</summary>
    public const string DefaultContentType = "text/html; charset=utf-8";

    private HttpResponseHeaders? _headers;
    private List<ResponseCookie>? _cookies;
    private int _statusCode;

    public HttpResponse(string content = "", int statusCode = 200, string? contentType = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        Text = content;
        StatusCode = statusCode;
        ContentType = contentType ?? DefaultContentType;
    }

    public HttpResponse(byte[] content, int statusCode = 200, string? contentType = null)
        : this((ReadOnlyMemory<byte>)(content ?? throw new ArgumentNullException(nameof(content))), statusCode, contentType)
    {
    }

    public HttpResponse(ReadOnlyMemory<byte> content, int statusCode = 200, string? contentType = null)
    {
        Bytes = content;
        StatusCode = statusCode;
        ContentType = contentType ?? "application/octet-stream";
    }

    /// <summary>The status code, 100 to 599.</summary>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 100);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 599);
            _statusCode = value;
        }
    }

    /// <summary>Text content, sent as UTF-8; null when the content is bytes.</summary>
    public string? Text { get; private set; }

    /// <summary>Byte content; empty when the content is text.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>The Content-Type header; null or empty sends none.</summary>
    public string? ContentType
    {
        get;
        set
        {
            if (value is not null) HttpResponseHeaders.ValidateValue("Content-Type", value);
            field = value;
        }
    }

    /// <summary>Extra response headers. Names and values are checked when added: CR, LF and NUL are refused.</summary>
    public HttpResponseHeaders Headers => _headers ??= new HttpResponseHeaders();

    /// <summary>Cookies to set, one Set-Cookie header each.</summary>
    public IList<ResponseCookie> Cookies => _cookies ??= new List<ResponseCookie>();

    internal bool HasHeaders => _headers is { Count: > 0 };

    internal bool HasCookies => _cookies is { Count: > 0 };

    /// <summary>Replaces the content with text.</summary>
    public void SetContent(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        ThrowIfStreaming();
        Text = content;
        Bytes = default;
    }

    /// <summary>Replaces the content with bytes.</summary>
    public void SetContent(ReadOnlyMemory<byte> content)
    {
        ThrowIfStreaming();
        Text = null;
        Bytes = content;
    }

    /// <summary>Adds a cookie; see <see cref="ResponseCookie"/> for the attributes.</summary>
    public ResponseCookie SetCookie(string name, string value)
    {
        var cookie = new ResponseCookie(name, value);
        Cookies.Add(cookie);
        return cookie;
    }

    /// <summary>Adds a cookie that tells the client to forget <paramref name="name"/>.</summary>
    public ResponseCookie DeleteCookie(string name, string path = "/")
    {
        var cookie = new ResponseCookie(name, "") { Path = path, MaxAge = TimeSpan.Zero, Expires = DateTimeOffset.UnixEpoch };
        Cookies.Add(cookie);
        return cookie;
    }

    private void ThrowIfStreaming()
    {
        if (this is StreamingResponse)
        {
            throw new InvalidOperationException("A StreamingResponse has no content to set: write its body with Write.");
        }
    }

    /// <summary>The content length in bytes.</summary>
    internal int ContentLength => Text is null ? Bytes.Length : Encoding.UTF8.GetByteCount(Text);

    public override string ToString() => $"{StatusCode} {HttpStatus.ReasonPhrase(StatusCode)}";
}

/// <summary>The 404 answer, as in the original Snow.</summary>
public class HttpNotFound(string content = "Not Found") : HttpResponse(content, 404, "text/plain; charset=utf-8");
