using System.Collections.ObjectModel;
using Snow.Native.Http;

namespace Snow.Native;

/// <summary>
/// What every answer of a handler has: a status, a content type, headers and cookies. An
/// <see cref="HttpResponse"/> adds its content; a <see cref="StreamingResponse"/> writes its body after the handler
/// has returned. Once the server has begun sending a response it is read-only (<see cref="IsReadOnly"/>): a
/// cached response answers any number of requests, on any loop, and nobody can change it under them.
/// </summary>
public abstract class HttpResponseBase
{
    private HttpResponseHeaders? _headers;
    private ResponseCookieList? _cookies;
    private int _statusCode;
    private volatile bool _readOnly;

    private protected HttpResponseBase(int statusCode, string? contentType)
    {
        StatusCode = statusCode;
        ContentType = contentType;
    }

    /// <summary>The status code, 100 to 599.</summary>
    public int StatusCode
    {
        get => _statusCode;
        set
        {
            ThrowIfReadOnly();
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 100);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 599);
            _statusCode = value;
        }
    }

    /// <summary>The Content-Type header; null or empty sends none.</summary>
    public string? ContentType
    {
        get;
        set
        {
            ThrowIfReadOnly();
            if (value is not null) HttpResponseHeaders.ValidateValue("Content-Type", value);
            field = value;
        }
    }

    /// <summary>Extra response headers. Names and values are checked when added: CR, LF and NUL are refused.</summary>
    public HttpResponseHeaders Headers => _headers ??= new HttpResponseHeaders(this);

    /// <summary>Cookies to set, one Set-Cookie header each.</summary>
    public IList<ResponseCookie> Cookies => _cookies ??= new ResponseCookieList(this);

    /// <summary>
    /// True once the server has begun sending this response: from then on every change throws, because the same
    /// object may be answering other requests at that moment. Make a new response, or finish this one first.
    /// </summary>
    public bool IsReadOnly => _readOnly;

    internal bool HasHeaders => _headers is { Count: > 0 };

    internal bool HasCookies => _cookies is { Count: > 0 };

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

    /// <summary>The server is about to send the response: it cannot change from here on. Cheap when already so.</summary>
    internal void MarkReadOnly()
    {
        if (_readOnly) return;
        if (_cookies is not null)
        {
            foreach (ResponseCookie cookie in _cookies) cookie.MarkReadOnly();
        }
        _readOnly = true;
    }

    internal void ThrowIfReadOnly()
    {
        if (_readOnly)
        {
            throw new InvalidOperationException(
                "This response is being sent (it may be answering other requests too) and can no longer be changed; make a new one, or finish it before the handler returns it.");
        }
    }

    /// <summary>"404 Not Found": the status, for logs.</summary>
    public override string ToString() => $"{StatusCode} {HttpStatus.ReasonPhrase(StatusCode)}";

    /// <summary>The cookie list, which refuses changes once its response is read-only.</summary>
    private sealed class ResponseCookieList(HttpResponseBase owner) : Collection<ResponseCookie>
    {
        protected override void InsertItem(int index, ResponseCookie item)
        {
            owner.ThrowIfReadOnly();
            ArgumentNullException.ThrowIfNull(item);
            base.InsertItem(index, item);
        }

        protected override void SetItem(int index, ResponseCookie item)
        {
            owner.ThrowIfReadOnly();
            ArgumentNullException.ThrowIfNull(item);
            base.SetItem(index, item);
        }

        protected override void RemoveItem(int index)
        {
            owner.ThrowIfReadOnly();
            base.RemoveItem(index);
        }

        protected override void ClearItems()
        {
            owner.ThrowIfReadOnly();
            base.ClearItems();
        }
    }
}
