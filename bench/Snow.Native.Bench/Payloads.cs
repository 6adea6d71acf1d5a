using System.Text;

namespace Snow.Native.Bench;

/// <summary>The requests the benchmarks parse and send, built once.</summary>
internal static class Payloads
{
    /// <summary>A top-level navigation by Chrome 124 on Windows: the headers and order Chrome sends (about 600 bytes).</summary>
    public static readonly byte[] BrowserGet = Ascii(
        "GET /docs/getting-started?lang=en HTTP/1.1\r\n" +
        "Host: www.example.com\r\n" +
        "Connection: keep-alive\r\n" +
        "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
        "sec-ch-ua-mobile: ?0\r\n" +
        "sec-ch-ua-platform: \"Windows\"\r\n" +
        "Upgrade-Insecure-Requests: 1\r\n" +
        "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
        "Sec-Fetch-Site: none\r\n" +
        "Sec-Fetch-Mode: navigate\r\n" +
        "Sec-Fetch-User: ?1\r\n" +
        "Sec-Fetch-Dest: document\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "\r\n");

    public const string ApiJsonBody =
        "{\"customerId\":12345,\"items\":[{\"sku\":\"A-100\",\"quantity\":2},{\"sku\":\"B-200\",\"quantity\":1}],\"note\":\"leave at the door\"}";

    /// <summary>An API call: POST with a bearer token and a small JSON body framed by Content-Length.</summary>
    public static readonly byte[] ApiPost = Ascii(
        "POST /api/v1/orders HTTP/1.1\r\n" +
        "Host: api.example.com\r\n" +
        "User-Agent: example-client/2.3.1\r\n" +
        "Accept: application/json\r\n" +
        "Content-Type: application/json\r\n" +
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\r\n" +
        "Content-Length: " + ApiJsonBody.Length + "\r\n" +
        "\r\n" +
        ApiJsonBody);

    /// <summary>The request TechEmpower's plaintext test sends (wrk's, with its Accept header).</summary>
    public static readonly byte[] Plaintext = Ascii(
        "GET /plaintext HTTP/1.1\r\n" +
        "Host: localhost:8080\r\n" +
        "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    public const int PipelineDepth = 16;

    /// <summary><see cref="PipelineDepth"/> plaintext requests back to back, as one read brings them in.</summary>
    public static readonly byte[] PlaintextPipelined = Repeat(Plaintext, PipelineDepth);

    /// <summary>A chunked body of 16 chunks of 1 KiB: a typical upload streamed in writes of 1 KiB.</summary>
    public static readonly byte[] ChunkedLarge = Chunked(chunkCount: 16, chunkSize: 1024, withTrailer: false);

    /// <summary>A chunked body of 64 chunks of 16 bytes with a chunk extension and a trailer: the per-chunk overhead.</summary>
    public static readonly byte[] ChunkedSmall = Chunked(chunkCount: 64, chunkSize: 16, withTrailer: true);

    /// <summary>A raw path with escapes and dot segments, as a client may send it.</summary>
    public static readonly byte[] EncodedPath = Ascii("/files/My%20Documents/./reports/2026/../2025/Q4%20summary%E2%9C%93.pdf");

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static byte[] Repeat(byte[] one, int count)
    {
        var all = new byte[one.Length * count];
        for (int i = 0; i < count; i++) one.CopyTo(all, i * one.Length);
        return all;
    }

    private static byte[] Chunked(int chunkCount, int chunkSize, bool withTrailer)
    {
        var body = new StringBuilder();
        for (int i = 0; i < chunkCount; i++)
        {
            body.Append(chunkSize.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            if (withTrailer && i == 0) body.Append(";name=\"first\"");
            body.Append("\r\n");
            body.Append((char)('a' + (i % 26)), chunkSize);
            body.Append("\r\n");
        }
        body.Append("0\r\n");
        if (withTrailer) body.Append("Checksum: 0123456789abcdef\r\n");
        body.Append("\r\n");
        return Ascii(body.ToString());
    }
}
