using System.Buffers.Text;
using System.Text;
using Snow.Native.Http;
using Snow.Native.Transport;

namespace Snow.Native.Http1;

/// <summary>
/// Serializes responses: status line with reason phrase, Server, Date, Content-Type, Content-Length, Connection,
/// the handler's headers and cookies, then the content, all into the connection's output buffer in one pass.
/// Streamed responses get their head here too, framed with Transfer-Encoding: chunked instead of a length.
/// Nothing here allocates for a response without extra headers or cookies.
/// </summary>
internal static partial class ResponseWriter
{
    private static readonly byte[] ServerLine = "Server: Snow.Native\r\n"u8.ToArray();

    public static void Write(
        ref OutputBuffer output,
        BufferPool pool,
        HttpResponse response,
        bool keepAlive,
        bool http10KeepAlive,
        bool headRequest,
        bool addServerHeader,
        DateHeader date)
    {
        int status = response.StatusCode;
        bool noContent = HttpStatus.HasNoContent(status);
        int contentLength = noContent ? 0 : response.ContentLength;
        bool sendBody = !noContent && !headRequest;
        string? contentType = noContent ? null : response.ContentType;

        ReadOnlySpan<byte> statusLine = HttpStatus.StatusLine(status);
        int size = statusLine.Length + ServerLine.Length + 64 /* Date */ + 40 /* Content-Length */ + 32 /* Connection */
            + (string.IsNullOrEmpty(contentType) ? 0 : 16 + contentType.Length)
            + ExtraHeadersSize(response) + 2 + (sendBody ? contentLength : 0);
        Span<byte> span = output.GetSpan(pool, size);
        int at = 0;

        Put(span, ref at, statusLine);
        if (addServerHeader) Put(span, ref at, ServerLine);
        Put(span, ref at, date.Current);
        if (!string.IsNullOrEmpty(contentType))
        {
            Put(span, ref at, "Content-Type: "u8);
            at += Encoding.Latin1.GetBytes(contentType, span[at..]);
            Put(span, ref at, "\r\n"u8);
        }
        if (!noContent)
        {
            Put(span, ref at, "Content-Length: "u8);
            Utf8Formatter.TryFormat(contentLength, span[at..], out int digits);
            at += digits;
            Put(span, ref at, "\r\n"u8);
        }
        if (!keepAlive) Put(span, ref at, "Connection: close\r\n"u8);
        else if (http10KeepAlive) Put(span, ref at, "Connection: keep-alive\r\n"u8);
        if (response.HasHeaders)
        {
            foreach (var header in response.Headers.Items)
            {
                at += Encoding.ASCII.GetBytes(header.Key, span[at..]);
                Put(span, ref at, ": "u8);
                at += Encoding.Latin1.GetBytes(header.Value, span[at..]);
                Put(span, ref at, "\r\n"u8);
            }
        }
        if (response.HasCookies)
        {
            foreach (ResponseCookie cookie in response.Cookies)
            {
                Put(span, ref at, "Set-Cookie: "u8);
                at += Encoding.ASCII.GetBytes(cookie.ToString(), span[at..]);
                Put(span, ref at, "\r\n"u8);
            }
        }
        Put(span, ref at, "\r\n"u8);
        if (sendBody)
        {
            if (response.Text is string text) at += Encoding.UTF8.GetBytes(text, span[at..]);
            else Put(span, ref at, response.Bytes.Span);
        }
        output.Advance(at);
    }

    /// <summary>
    /// The head of a streamed response: as for <see cref="Write"/>, with <c>Transfer-Encoding: chunked</c> in place of
    /// Content-Length when <paramref name="chunked"/>, and no framing header at all otherwise (a close-delimited
    /// HTTP/1.0 body, or a status without content). The body follows later, written by the connection.
    /// </summary>
    public static void WriteStreamingHead(
        ref OutputBuffer output,
        BufferPool pool,
        HttpResponseBase response,
        bool chunked,
        bool keepAlive,
        bool http10KeepAlive,
        bool addServerHeader,
        DateHeader date)
    {
        int status = response.StatusCode;
        string? contentType = HttpStatus.HasNoContent(status) ? null : response.ContentType;
        ReadOnlySpan<byte> statusLine = HttpStatus.StatusLine(status);
        ReadOnlySpan<byte> transferEncoding = "Transfer-Encoding: chunked\r\n"u8;
        int size = statusLine.Length + ServerLine.Length + 64 /* Date */ + transferEncoding.Length + 32 /* Connection */
            + (string.IsNullOrEmpty(contentType) ? 0 : 16 + contentType.Length)
            + ExtraHeadersSize(response) + 2;
        Span<byte> span = output.GetSpan(pool, size);
        int at = 0;

        // The same lines as Write's, in the same order; kept apart so that Write's code stays as the hot path measures it.
        Put(span, ref at, statusLine);
        if (addServerHeader) Put(span, ref at, ServerLine);
        Put(span, ref at, date.Current);
        if (!string.IsNullOrEmpty(contentType))
        {
            Put(span, ref at, "Content-Type: "u8);
            at += Encoding.Latin1.GetBytes(contentType, span[at..]);
            Put(span, ref at, "\r\n"u8);
        }
        if (chunked) Put(span, ref at, transferEncoding);
        if (!keepAlive) Put(span, ref at, "Connection: close\r\n"u8);
        else if (http10KeepAlive) Put(span, ref at, "Connection: keep-alive\r\n"u8);
        if (response.HasHeaders || response.HasCookies) PutHeadersAndCookies(span, ref at, response);
        Put(span, ref at, "\r\n"u8);
        output.Advance(at);
    }

    /// <summary>Writes the last chunk of a chunked body (no trailers).</summary>
    public static void WriteLastChunk(ref OutputBuffer output, BufferPool pool) => Append(ref output, pool, "0\r\n\r\n"u8);

    /// <summary>The small plain-text answer to a request the server rejects (400, 408, 413, 431, ...), then close.</summary>
    public static void WriteError(ref OutputBuffer output, BufferPool pool, int status, string reason, bool addServerHeader, DateHeader date, string? allow = null)
    {
        var response = new HttpResponse(reason + "\n", status, "text/plain; charset=utf-8");
        if (allow is not null) response.Headers.Add("Allow", allow);
        Write(ref output, pool, response, keepAlive: false, http10KeepAlive: false, headRequest: false, addServerHeader, date);
    }

    public static void WriteContinue(ref OutputBuffer output, BufferPool pool) => Append(ref output, pool, "HTTP/1.1 100 Continue\r\n\r\n"u8);

    private static void Append(ref OutputBuffer output, BufferPool pool, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(pool, bytes.Length));
        output.Advance(bytes.Length);
    }

    // The streaming head's copy of Write's header and cookie lines. Write keeps them inline: calling this from
    // Write measured slower in the ResponseWriter micro-benchmark (93 -> 165-190 ns for a plain response).
    private static void PutHeadersAndCookies(Span<byte> span, ref int at, HttpResponseBase response)
    {
        if (response.HasHeaders)
        {
            foreach (var header in response.Headers.Items)
            {
                at += Encoding.ASCII.GetBytes(header.Key, span[at..]);
                Put(span, ref at, ": "u8);
                at += Encoding.Latin1.GetBytes(header.Value, span[at..]);
                Put(span, ref at, "\r\n"u8);
            }
        }
        if (response.HasCookies)
        {
            foreach (ResponseCookie cookie in response.Cookies)
            {
                Put(span, ref at, "Set-Cookie: "u8);
                at += Encoding.ASCII.GetBytes(cookie.ToString(), span[at..]);
                Put(span, ref at, "\r\n"u8);
            }
        }
    }

    private static int ExtraHeadersSize(HttpResponseBase response)
    {
        int size = 0;
        if (response.HasHeaders)
        {
            foreach (var header in response.Headers.Items) size += header.Key.Length + header.Value.Length + 4;
        }
        if (response.HasCookies)
        {
            foreach (ResponseCookie cookie in response.Cookies) size += 14 + cookie.ToString().Length;
        }
        return size;
    }

    private static void Put(Span<byte> span, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        at += bytes.Length;
    }
}
