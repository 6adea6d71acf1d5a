using System.Text;

namespace Snow.Native;

/// <summary>
/// What a handler answers: a status, content (text or bytes), a content type, headers and cookies. The server adds
/// the framing (Content-Length), Date, Server and Connection headers itself. For a body written piece by piece
/// after the handler returns, see <see cref="StreamingResponse"/>. A response may answer many requests (a cached
/// page); it becomes read-only when first sent (<see cref="HttpResponseBase.IsReadOnly"/>).
/// </summary>
public class HttpResponse : HttpResponseBase
{
    /// <summary>The content type used when none is given, as in the original Snow (and Django).</summary>
    public const string DefaultContentType = "text/html; charset=utf-8";

    /// <summary>A response with a text body, encoded as UTF-8; the content type defaults to <c>text/html; charset=utf-8</c>.</summary>
    public HttpResponse(string content = "", int statusCode = 200, string? contentType = null)
        : base(statusCode, contentType ?? DefaultContentType)
    {
        ArgumentNullException.ThrowIfNull(content);
        Text = content;
    }

    /// <summary>A response with a binary body (not copied: do not change the array afterwards); the content type defaults to <c>application/octet-stream</c>.</summary>
    public HttpResponse(byte[] content, int statusCode = 200, string? contentType = null)
        : this((ReadOnlyMemory<byte>)(content ?? throw new ArgumentNullException(nameof(content))), statusCode, contentType)
    {
    }

    /// <summary>A response with a binary body (not copied: do not change the memory afterwards); the content type defaults to <c>application/octet-stream</c>.</summary>
    public HttpResponse(ReadOnlyMemory<byte> content, int statusCode = 200, string? contentType = null)
        : base(statusCode, contentType ?? "application/octet-stream")
    {
        Bytes = content;
    }

    /// <summary>Text content, sent as UTF-8; null when the content is bytes.</summary>
    public string? Text { get; private set; }

    /// <summary>Byte content; empty when the content is text.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>Replaces the content with text.</summary>
    public void SetContent(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        ThrowIfReadOnly();
        Text = content;
        Bytes = default;
    }

    /// <summary>Replaces the content with bytes.</summary>
    public void SetContent(ReadOnlyMemory<byte> content)
    {
        ThrowIfReadOnly();
        Text = null;
        Bytes = content;
    }

    /// <summary>The content length in bytes.</summary>
    internal int ContentLength => Text is null ? Bytes.Length : Encoding.UTF8.GetByteCount(Text);
}

/// <summary>The 404 answer, as in the original Snow.</summary>
public class HttpNotFound(string content = "Not Found") : HttpResponse(content, 404, "text/plain; charset=utf-8");
