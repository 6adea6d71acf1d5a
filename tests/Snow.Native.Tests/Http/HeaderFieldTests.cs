using Snow.Native.Http;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class HeaderFieldTests
{
    private const string Line = "GET / HTTP/1.1\r\nHost: a\r\n";

    [TestCase("X-A: b", 0)]
    [TestCase("X-A:b", 0, Description = "no OWS needed")]
    [TestCase("X-A:", 0, Description = "empty value")]
    [TestCase("X-A: \t ", 0, Description = "value of OWS only")]
    [TestCase("!#$%&'*+-.^_`|~09azAZ: b", 0, Description = "every tchar class in a name")]
    [TestCase("X-A: b\u0080\u00FF", 0, Description = "obs-text in value")]
    [TestCase("X-A: a b\tc \"q\" ~", 0, Description = "SP, HTAB and VCHAR in value")]
    [TestCase("X-A : b", 400, Description = "SP between name and colon")]
    [TestCase("X-A\t: b", 400, Description = "HTAB between name and colon")]
    [TestCase(": b", 400, Description = "empty name")]
    [TestCase("X-A b", 400, Description = "no colon")]
    [TestCase("X(A): b", 400, Description = "name not a token")]
    [TestCase("X-\u00C4: b", 400, Description = "high byte in name")]
    [TestCase("X-A: b\u0000c", 400, Description = "NUL in value")]
    [TestCase("X-A: b\u0001c", 400, Description = "control in value")]
    [TestCase("X-A: b\u001Fc", 400, Description = "US in value")]
    [TestCase("X-A: b\u007Fc", 400, Description = "DEL in value")]
    [TestCase("X-A: b\u000Bc", 400, Description = "VT in value")]
    [TestCase("X-A: b\r\n c", 400, Description = "obs-fold with SP")]
    [TestCase("X-A: b\r\n\tc", 400, Description = "obs-fold with HTAB")]
    public void Header_field_syntax(string field, int expected) =>
        Assert.That(Outcome(Line + field + "\r\n\r\n"), Is.EqualTo(expected));

    [Test]
    public void Whitespace_before_the_first_header_is_refused() =>
        Assert.That(Outcome("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), Is.EqualTo(400));

    [Test]
    public void Values_are_trimmed_and_headers_are_found_case_insensitively()
    {
        byte[] bytes = Of("GET / HTTP/1.1\r\nHost: a\r\nX-Trim: \t  inner  value \t\r\nx-empty:\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n");
        var head = new RequestHead();
        int scanned = 0;
        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.HeaderCount, Is.EqualTo(5));

        Assert.That(head.TryGetHeader(bytes, "x-TRIM"u8, out ReadOnlySpan<byte> value), Is.True);
        Assert.That(Text(value), Is.EqualTo("inner  value"));
        Assert.That(head.TryGetHeader(bytes, "X-Empty"u8, out value), Is.True);
        Assert.That(value.Length, Is.EqualTo(0));
        Assert.That(head.TryGetHeader(bytes, "X-Dup"u8, out value), Is.True);
        Assert.That(Text(value), Is.EqualTo("1"), "the first of repeated fields");
        Assert.That(head.TryGetHeader(bytes, "X-Missing"u8, out _), Is.False);
        Assert.That(head.TryGetHeader(bytes, "X-Tri"u8, out _), Is.False);

        var names = new List<string>();
        var values = new List<string>();
        foreach (RequestHeaderField field in head.EnumerateHeaders(bytes))
        {
            names.Add(Text(field.Name));
            values.Add(Text(field.Value));
        }

        Assert.That(names, Is.EqualTo(new[] { "Host", "X-Trim", "x-empty", "X-Dup", "x-dup" }));
        Assert.That(values, Is.EqualTo(new[] { "a", "inner  value", "", "1", "2" }));
        Assert.That(Text(head.GetHeaderNameRange(1).Of(bytes)), Is.EqualTo("X-Trim"));
        Assert.That(Text(head.GetHeaderValueRange(1).Of(bytes)), Is.EqualTo("inner  value"));
        Assert.Throws<ArgumentOutOfRangeException>(() => head.GetHeaderNameRange(5));
    }

    [TestCase("GET / HTTP/1.1\r\n\r\n", 400, Description = "HTTP/1.1 without Host")]
    [TestCase("GET / HTTP/1.0\r\n\r\n", 0, Description = "HTTP/1.0 without Host is fine")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, Description = "two Host fields, even equal")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400)]
    [TestCase("GET http://a/ HTTP/1.1\r\n\r\n", 400, Description = "absolute-form still needs Host in HTTP/1.1")]
    [TestCase("GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, Description = "empty Host is allowed (RFC 9110 7.2)")]
    [TestCase("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: a-b_c~d.e%41\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 0, Description = "empty port is allowed by RFC 3986")]
    [TestCase("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a:80:90\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\u00E9\r\n\r\n", 400)]
    [TestCase("GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", 400)]
    public void Host(string request, int expected) =>
        Assert.That(Outcome(request), Is.EqualTo(expected));

    [Test]
    public void Host_range_is_the_Host_value()
    {
        byte[] bytes = Of("GET / HTTP/1.1\r\nHost:  example.com:8080 \r\n\r\n");
        var head = new RequestHead();
        int scanned = 0;
        HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _);
        Assert.That(Text(head.HostRange.Of(bytes)), Is.EqualTo("example.com:8080"));
    }

    [TestCase("0", 0L)]
    [TestCase("42", 42L)]
    [TestCase("007", 7L)]
    [TestCase("30000000", 30_000_000L)]
    public void Content_length_valid(string value, long expected)
    {
        Assert.That(Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + "\r\n\r\n", out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.ContentLength, Is.EqualTo(expected));
        Assert.That(head.IsChunked, Is.False);
        Assert.That(head.HasBody, Is.EqualTo(expected > 0));
    }

    [TestCase("Content-Length: 30000001", 413)]
    [TestCase("Content-Length: 99999999999", 413)]
    [TestCase("Content-Length: -1", 400)]
    [TestCase("Content-Length: +1", 400)]
    [TestCase("Content-Length: 1 2", 400)]
    [TestCase("Content-Length: 1,1", 400)]
    [TestCase("Content-Length: 1, 2", 400)]
    [TestCase("Content-Length: 0x10", 400)]
    [TestCase("Content-Length: 1.0", 400)]
    [TestCase("Content-Length:", 400)]
    [TestCase("Content-Length: 9223372036854775807", 413, Description = "long.MaxValue parses, then is over the limit")]
    [TestCase("Content-Length: 9223372036854775808", 400, Description = "overflow")]
    [TestCase("Content-Length: 99999999999999999999999", 400, Description = "overflow")]
    [TestCase("Content-Length: 5\r\nContent-Length: 5", 400, Description = "repeated, even equal")]
    [TestCase("Content-Length: 5\r\ncontent-length: 6", 400)]
    public void Content_length_invalid(string fields, int expected) =>
        Assert.That(Outcome("POST / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n\r\n"), Is.EqualTo(expected));

    [Test]
    public void Content_length_limit_is_inclusive()
    {
        var limits = new HttpLimits { MaxRequestBodyBytes = 100 };
        Assert.That(Outcome("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", limits), Is.EqualTo(0));
        Assert.That(Outcome("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", limits), Is.EqualTo(413));
    }

    [Test]
    public void No_framing_means_no_body()
    {
        Assert.That(Parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.ContentLength, Is.EqualTo(-1));
        Assert.That(head.IsChunked, Is.False);
        Assert.That(head.HasBody, Is.False);
    }

    [TestCase("chunked", 0)]
    [TestCase("Chunked", 0)]
    [TestCase("CHUNKED", 0)]
    [TestCase(" chunked \t", 0)]
    [TestCase("gzip, chunked", 501)]
    [TestCase("gzip,chunked", 501)]
    [TestCase("deflate ,\tchunked", 501)]
    [TestCase("compress, chunked", 501)]
    [TestCase("x-unknown, chunked", 501)]
    [TestCase("identity, chunked", 501)]
    [TestCase("chunked, gzip", 400, Description = "chunked not last")]
    [TestCase("gzip", 400, Description = "chunked absent")]
    [TestCase("identity", 400)]
    [TestCase("chunked, chunked", 400, Description = "chunked twice")]
    [TestCase("chunked,", 400, Description = "empty element")]
    [TestCase(", chunked", 400)]
    [TestCase("gzip,,chunked", 400)]
    [TestCase("", 400, Description = "empty value")]
    [TestCase("chunked;q=1", 400, Description = "parameters")]
    [TestCase("chunk ed", 400)]
    [TestCase("\"chunked\"", 400)]
    [TestCase("chunkedx", 400)]
    public void Transfer_encoding(string value, int expected) =>
        Assert.That(Outcome("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + value + "\r\n\r\n"), Is.EqualTo(expected));

    [TestCase("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", 501, Description = "fields combine as one list")]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", 400)]
    [TestCase("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", 400)]
    [TestCase("Transfer-Encoding: chunked\r\nContent-Length: 5", 400, Description = "smuggling: TE and CL")]
    [TestCase("Content-Length: 5\r\nTransfer-Encoding: chunked", 400)]
    [TestCase("Content-Length: 0\r\nTransfer-Encoding: chunked", 400)]
    [TestCase("Content-Length: 99999999999\r\nTransfer-Encoding: chunked", 400, Description = "400 for TE+CL before 413")]
    public void Transfer_encoding_combinations(string fields, int expected) =>
        Assert.That(Outcome("POST / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n\r\n"), Is.EqualTo(expected));

    [Test]
    public void Chunked_request_is_reported()
    {
        Assert.That(Parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.IsChunked, Is.True);
        Assert.That(head.ContentLength, Is.EqualTo(-1));
        Assert.That(head.HasBody, Is.True);
    }

    [TestCase("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400)]
    [TestCase("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, Description = "TE in HTTP/1.0")]
    [TestCase("POST / HTTP/1.0\r\n\r\n", 411)]
    [TestCase("PUT / HTTP/1.0\r\n\r\n", 411)]
    [TestCase("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n", 0)]
    [TestCase("GET / HTTP/1.0\r\n\r\n", 0)]
    [TestCase("DELETE / HTTP/1.0\r\n\r\n", 0)]
    [TestCase("POST / HTTP/1.1\r\nHost: a\r\n\r\n", 0, Description = "HTTP/1.1 POST without framing has an empty body")]
    public void Http10_framing(string request, int expected) =>
        Assert.That(Outcome(request), Is.EqualTo(expected));

    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade ,\tClose ,\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.0\r\n\r\n", false)]
    [TestCase("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n", true)]
    [TestCase("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false)]
    public void Keep_alive(string request, bool keepAlive)
    {
        Assert.That(Parse(request, out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.KeepAlive, Is.EqualTo(keepAlive));
    }

    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 0, true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n", 0, true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect:  100-CONTINUE \r\n\r\n", 0, true)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, false)]
    [TestCase("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", 0, false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n", 417, false)]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue;x=1\r\n\r\n", 417, false)]
    [TestCase("GET / HTTP/1.0\r\nExpect: something\r\n\r\n", 417, false)]
    public void Expect(string request, int expected, bool expectContinue)
    {
        Assert.That(Outcome(request), Is.EqualTo(expected));
        if (expected == 0)
        {
            Parse(request, out RequestHead head, out _);
            Assert.That(head.ExpectContinue, Is.EqualTo(expectContinue));
        }
    }
}
