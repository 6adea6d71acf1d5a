using Snow.Native.Http;
using HttpRequestError = Snow.Native.Http.HttpRequestError;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class HeadParsingIncrementalTests
{
    private const string BrowserRequest =
        "GET /articles/2024/snow?page=2&sort=new HTTP/1.1\r\n" +
        "Host: www.example.com\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
        "Accept-Language: en-US,en;q=0.5\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Connection: keep-alive\r\n" +
        "Cookie: session=abc123; theme=dark\r\n" +
        "Upgrade-Insecure-Requests: 1\r\n" +
        "Sec-Fetch-Dest: document\r\n" +
        "Sec-Fetch-Mode: navigate\r\n" +
        "Sec-Fetch-Site: none\r\n" +
        "Sec-Fetch-User: ?1\r\n" +
        "Priority: u=0, i\r\n" +
        "\r\n";

    private const string ApiRequest =
        "POST /api/v1/orders HTTP/1.1\r\n" +
        "Host: api.example.com:8443\r\n" +
        "Content-Type: application/json\r\n" +
        "Content-Length: 27\r\n" +
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\r\n" +
        "Expect: 100-continue\r\n" +
        "\r\n";

    public static IEnumerable<string> SplitRequests()
    {
        yield return BrowserRequest;
        yield return ApiRequest;
        yield return "\r\n\r\n" + ApiRequest;
        yield return "OPTIONS * HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        yield return "GET http://h/x?y HTTP/1.0\r\n\r\n";
    }

    [TestCaseSource(nameof(SplitRequests))]
    public void Every_prefix_needs_more_data_and_the_whole_head_completes(string request)
    {
        byte[] bytes = Of(request);
        var limits = new HttpLimits();
        for (int length = 0; length < bytes.Length; length++)
        {
            var fresh = new RequestHead();
            int scanned = 0;
            Assert.That(HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), limits, fresh, ref scanned, out _),
                Is.EqualTo(HttpParseStatus.NeedMoreData), $"prefix of {length} bytes");
        }

        Assert.That(Parse(request, out RequestHead reference, out _), Is.EqualTo(HttpParseStatus.Complete));
        AssertSameHead(reference, ParseGrowing(bytes, step: 1), bytes);
    }

    [TestCaseSource(nameof(SplitRequests))]
    public void Split_at_every_point_in_two_calls_gives_the_same_head(string request)
    {
        byte[] bytes = Of(request);
        var limits = new HttpLimits();
        Parse(request, out RequestHead reference, out _);
        for (int split = 0; split <= bytes.Length; split++)
        {
            var head = new RequestHead();
            int scanned = 0;
            HttpParseStatus first = HttpRequestParser.TryParseHead(bytes.AsSpan(0, split), limits, head, ref scanned, out _);
            Assert.That(first, Is.EqualTo(split == bytes.Length ? HttpParseStatus.Complete : HttpParseStatus.NeedMoreData));
            if (first == HttpParseStatus.NeedMoreData)
            {
                Assert.That(HttpRequestParser.TryParseHead(bytes, limits, head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete), $"split at {split}");
            }

            AssertSameHead(reference, head, bytes);
        }
    }

    [Test]
    public void Scanned_position_advances_so_earlier_bytes_are_not_searched_again()
    {
        byte[] bytes = Of(ApiRequest);
        var head = new RequestHead();
        int scanned = 0;
        int previous = 0;
        for (int length = 1; length < bytes.Length; length++)
        {
            Assert.That(HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.NeedMoreData));
            Assert.That(scanned, Is.GreaterThanOrEqualTo(previous));
            Assert.That(scanned, Is.GreaterThanOrEqualTo(length - 1), "at most a trailing CR is left to look at again");
            previous = scanned;
        }

        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(scanned, Is.EqualTo(0), "reset for the next request");
    }

    [Test]
    public void A_head_that_lost_its_scan_state_rescans_and_still_parses()
    {
        byte[] bytes = Of(ApiRequest);
        var head = new RequestHead();
        int scanned = 0;
        HttpRequestParser.TryParseHead(bytes.AsSpan(0, 40), new HttpLimits(), head, ref scanned, out _);
        head.Reset();
        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.ContentLength, Is.EqualTo(27));
    }

    [Test]
    public void Byte_at_a_time_errors_are_found_as_early_as_possible()
    {
        // The bare LF is refused on the byte that shows it, without waiting for the end of the head.
        byte[] bytes = Of("GET / HTTP/1.1\nHost: a\r\n");
        var head = new RequestHead();
        int scanned = 0;
        HttpParseStatus status = HttpParseStatus.NeedMoreData;
        int length = 0;
        while (status == HttpParseStatus.NeedMoreData && length < bytes.Length)
        {
            length++;
            status = HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), new HttpLimits(), head, ref scanned, out _);
        }

        Assert.That(status, Is.EqualTo(HttpParseStatus.Error));
        Assert.That(length, Is.EqualTo("GET / HTTP/1.1\n".Length));
    }

    [Test]
    public void Pipelined_requests_are_parsed_one_after_another_using_HeadLength()
    {
        string pipeline = BrowserRequest + ApiRequest + "{\"item\":42,\"quantity\":1000}"[..27] + "GET /last HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
        byte[] bytes = Of(pipeline);
        var head = new RequestHead();
        var limits = new HttpLimits();
        int scanned = 0;
        int offset = 0;
        var paths = new List<string>();
        while (offset < bytes.Length)
        {
            ReadOnlySpan<byte> rest = bytes.AsSpan(offset);
            Assert.That(HttpRequestParser.TryParseHead(rest, limits, head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
            paths.Add(Text(head.GetPath(rest)));
            offset += head.HeadLength + (int)Math.Max(0, head.ContentLength);
            head.Reset();
        }

        Assert.That(paths, Is.EqualTo(new[] { "/articles/2024/snow", "/api/v1/orders", "/last" }));
        Assert.That(offset, Is.EqualTo(bytes.Length));
    }

    [Test]
    public void Typical_requests_parse_without_allocating()
    {
        byte[] browser = Of(BrowserRequest);
        byte[] api = Of(ApiRequest);
        var head = new RequestHead();
        var limits = new HttpLimits();
        int scanned = 0;

        // Warm-up: JIT, static SearchValues, and the head's header table.
        HttpRequestParser.TryParseHead(browser, limits, head, ref scanned, out _);
        HttpRequestParser.TryParseHead(api, limits, head, ref scanned, out _);
        HttpRequestParser.TryParseHead(browser.AsSpan(0, 100), limits, head, ref scanned, out _);
        HttpRequestParser.TryParseHead(browser, limits, head, ref scanned, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        HttpParseStatus browserStatus = HttpRequestParser.TryParseHead(browser, limits, head, ref scanned, out _);
        bool found = head.TryGetHeader(browser, "cookie"u8, out _);
        HttpParseStatus apiStatus = HttpRequestParser.TryParseHead(api, limits, head, ref scanned, out _);
        HttpParseStatus partial = HttpRequestParser.TryParseHead(api.AsSpan(0, 60), limits, head, ref scanned, out _);
        HttpParseStatus rest = HttpRequestParser.TryParseHead(api, limits, head, ref scanned, out _);
        HttpParseStatus bad = HttpRequestParser.TryParseHead("GET / HTTP/2.0\r\n\r\n"u8, limits, head, ref scanned, out HttpRequestError error);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.EqualTo(0));
        Assert.That((browserStatus, apiStatus, partial, rest, bad), Is.EqualTo((HttpParseStatus.Complete, HttpParseStatus.Complete, HttpParseStatus.NeedMoreData, HttpParseStatus.Complete, HttpParseStatus.Error)));
        Assert.That(found, Is.True);
        Assert.That(error.StatusCode, Is.EqualTo(505));
    }

    [Test]
    public void Typical_requests_are_understood()
    {
        byte[] browser = Of(BrowserRequest);
        Assert.That(Parse(BrowserRequest, out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.HeaderCount, Is.EqualTo(13));
        Assert.That(head.KeepAlive, Is.True);
        Assert.That(head.HasBody, Is.False);
        Assert.That(Text(head.HostRange.Of(browser)), Is.EqualTo("www.example.com"));
        Assert.That(Text(head.QueryRange.Of(browser)), Is.EqualTo("page=2&sort=new"));
        Assert.That(head.HeadLength, Is.EqualTo(browser.Length));

        Assert.That(Parse(ApiRequest, out head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.MethodKind, Is.EqualTo(HttpMethodKind.Post));
        Assert.That(head.ContentLength, Is.EqualTo(27));
        Assert.That(head.ExpectContinue, Is.True);
    }

    private static RequestHead ParseGrowing(byte[] bytes, int step)
    {
        var head = new RequestHead();
        var limits = new HttpLimits();
        int scanned = 0;
        for (int length = 0; length <= bytes.Length; length += step)
        {
            HttpParseStatus status = HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), limits, head, ref scanned, out _);
            if (length < bytes.Length)
            {
                Assert.That(status, Is.EqualTo(HttpParseStatus.NeedMoreData), $"after {length} bytes");
            }
            else
            {
                Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
            }
        }

        return head;
    }

    private static void AssertSameHead(RequestHead expected, RequestHead actual, byte[] bytes)
    {
        Assert.That(actual.Method, Is.EqualTo(expected.Method));
        Assert.That(actual.TargetRange, Is.EqualTo(expected.TargetRange));
        Assert.That(actual.PathRange, Is.EqualTo(expected.PathRange));
        Assert.That(actual.QueryRange, Is.EqualTo(expected.QueryRange));
        Assert.That(actual.TargetForm, Is.EqualTo(expected.TargetForm));
        Assert.That(actual.Version, Is.EqualTo(expected.Version));
        Assert.That(actual.HeaderCount, Is.EqualTo(expected.HeaderCount));
        for (int i = 0; i < expected.HeaderCount; i++)
        {
            Assert.That(actual.GetHeaderNameRange(i), Is.EqualTo(expected.GetHeaderNameRange(i)));
            Assert.That(actual.GetHeaderValueRange(i), Is.EqualTo(expected.GetHeaderValueRange(i)));
        }

        Assert.That(actual.ContentLength, Is.EqualTo(expected.ContentLength));
        Assert.That(actual.IsChunked, Is.EqualTo(expected.IsChunked));
        Assert.That(actual.KeepAlive, Is.EqualTo(expected.KeepAlive));
        Assert.That(actual.ExpectContinue, Is.EqualTo(expected.ExpectContinue));
        Assert.That(actual.HostRange, Is.EqualTo(expected.HostRange));
        Assert.That(actual.HeadLength, Is.EqualTo(bytes.Length));
    }
}
