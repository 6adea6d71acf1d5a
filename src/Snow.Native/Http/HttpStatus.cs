namespace Snow.Native;

/// <summary>Reason phrases (RFC 9110 section 15) and the preformatted status lines the writer copies.</summary>
public static class HttpStatus
{
    /// <summary>The reason phrase of <paramref name="statusCode"/> ("Not Found" for 404), or the class's name ("Client Error") for a code it does not know.</summary>
    public static string ReasonPhrase(int statusCode) => statusCode switch
    {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => statusCode switch
        {
            < 200 => "Informational",
            < 300 => "Success",
            < 400 => "Redirection",
            < 500 => "Client Error",
            _ => "Server Error",
        },
    };

    private static readonly byte[]?[] StatusLines = BuildStatusLines();

    /// <summary>"HTTP/1.1 200 OK\r\n" as bytes, made once per status code.</summary>
    internal static ReadOnlySpan<byte> StatusLine(int statusCode)
    {
        if ((uint)(statusCode - 100) < 500 && StatusLines[statusCode - 100] is byte[] line) return line;
        return System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {statusCode} {ReasonPhrase(statusCode)}\r\n");
    }

    private static byte[]?[] BuildStatusLines()
    {
        var lines = new byte[]?[500];
        for (int code = 100; code < 600; code++)
        {
            lines[code - 100] = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {code} {ReasonPhrase(code)}\r\n");
        }
        return lines;
    }

    /// <summary>Whether a response with this status carries no content (1xx, 204, 304).</summary>
    public static bool HasNoContent(int statusCode) => statusCode < 200 || statusCode == 204 || statusCode == 304;
}
