using System.Net;
using System.Net.Http;
using System.Text;

namespace Snow.Native.Testing;

/// <summary>
/// A test client's request as HTTP/1.1 bytes: the request line with the URI's path and query, Host from the URI
/// unless given, the request's and its content's headers, and the content (read whole) with its Content-Length.
/// </summary>
internal static class TestRequestWriter
{
    /// <summary>Where relative URIs of a test client point (no name is resolved: nothing leaves the process).</summary>
    public static readonly Uri BaseAddress = new("http://localhost/");

    public static async Task<byte[]> SerializeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Uri uri = request.RequestUri ?? BaseAddress;
        if (!uri.IsAbsoluteUri) uri = new Uri(BaseAddress, uri);
        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        string version = request.Version == HttpVersion.Version10 ? "HTTP/1.0" : "HTTP/1.1";

        var head = new StringBuilder();
        head.Append(request.Method.Method).Append(' ').Append(uri.PathAndQuery).Append(' ').Append(version).Append("\r\n");
        if (request.Headers.Host is null) head.Append("Host: ").Append(uri.Authority).Append("\r\n");
        foreach (var header in request.Headers.NonValidated)
        {
            // The framing is this writer's: the content is sent whole with its length.
            if (header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) continue;
            head.Append(header.Key).Append(": ").Append(header.Value.ToString()).Append("\r\n");
        }
        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers.NonValidated)
            {
                if (header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) continue;
                head.Append(header.Key).Append(": ").Append(header.Value.ToString()).Append("\r\n");
            }
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }
        else if (request.Method == HttpMethod.Post || request.Method == HttpMethod.Put)
        {
            head.Append("Content-Length: 0\r\n"); // as HttpClient sends it: the server would answer 411 otherwise
        }
        head.Append("\r\n");

        int headLength = Encoding.Latin1.GetByteCount(head.ToString());
        var bytes = new byte[headLength + body.Length];
        Encoding.Latin1.GetBytes(head.ToString(), bytes);
        body.CopyTo(bytes, headLength);
        return bytes;
    }
}
