using System.Text;
using Snow.Native.Http;
using HttpRequestError = Snow.Native.Http.HttpRequestError;

namespace Snow.Native.Tests.Http;

internal static class HttpTestBytes
{
    /// <summary>Latin-1, so that "\u0080".."\u00FF" in a test string stand for the single bytes 0x80..0xFF.</summary>
    public static byte[] Of(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>Parses a whole request head in one call with a fresh head.</summary>
    public static HttpParseStatus Parse(string request, out RequestHead head, out HttpRequestError error, HttpLimits? limits = null)
    {
        head = new RequestHead();
        int scanned = 0;
        return HttpRequestParser.TryParseHead(Of(request), limits ?? new HttpLimits(), head, ref scanned, out error);
    }

    /// <summary>0 when the head parses completely, otherwise the status code of the error (-1 for NeedMoreData).</summary>
    public static int Outcome(string request, HttpLimits? limits = null)
    {
        HttpParseStatus status = Parse(request, out _, out HttpRequestError error, limits);
        return status switch
        {
            HttpParseStatus.Complete => 0,
            HttpParseStatus.NeedMoreData => -1,
            _ => error.StatusCode,
        };
    }
}
