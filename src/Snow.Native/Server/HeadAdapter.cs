using Snow.Native.Http;

namespace Snow.Native.Server;

/// <summary>What the connection needs to know of a parsed head, with offsets made absolute in the read buffer.</summary>
internal readonly record struct ParsedHead(
    string Method,
    bool IsHead,
    RequestLayout Layout,
    long ContentLength,
    bool IsChunked,
    bool ExpectContinue);

internal static class HeadAdapter
{
    /// <summary>Describes the head the parser just read from the span that began at <paramref name="offset"/>.</summary>
    public static ParsedHead Read(RequestHead head, int offset)
    {
        int headLength = head.HeadLength;
        // Header lines run from the first field name to the blank line that ends the head.
        int headersStart = head.HeaderCount > 0 ? head.GetHeaderNameRange(0).Start : headLength - 2;
        int headersEnd = headLength - 2;
        var layout = new RequestLayout
        {
            HeadStart = offset,
            HeadLength = headLength,
            TargetStart = offset + head.TargetRange.Start,
            TargetLength = head.TargetRange.Length,
            PathStart = offset + head.PathRange.Start,
            PathLength = head.PathRange.Length,
            QueryStart = offset + head.QueryRange.Start,
            QueryLength = head.HasQuery ? head.QueryRange.Length : 0,
            HeadersStart = offset + headersStart,
            HeadersLength = Math.Max(0, headersEnd - headersStart),
            IsHttp11 = head.Version == HttpVersionKind.Http11,
            KeepAlive = head.KeepAlive,
        };
        return new ParsedHead(head.Method, head.MethodKind == HttpMethodKind.Head, layout,
            head.ContentLength, head.IsChunked, head.ExpectContinue);
    }
}
