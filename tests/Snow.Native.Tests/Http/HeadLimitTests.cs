using System.Text;
using Snow.Native.Http;
using HttpRequestError = Snow.Native.Http.HttpRequestError;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class HeadLimitTests
{
    /// <summary>A request line of exactly <paramref name="length"/> bytes, CRLF included.</summary>
    private static string RequestLineOf(int length) => "GET /" + new string('a', length - 16) + " HTTP/1.1\r\n";

    /// <summary>A header line of exactly <paramref name="length"/> bytes, CRLF included.</summary>
    private static string HeaderLineOf(int length) => "X: " + new string('v', length - 5) + "\r\n";

    [TestCase(8192, 0)]
    [TestCase(8193, 414)]
    [TestCase(100_000, 414)]
    public void Request_line_limit_counts_the_CRLF(int length, int expected)
    {
        string request = RequestLineOf(length) + "Host: a\r\n\r\n";
        Assert.That(RequestLineOf(length).Length, Is.EqualTo(length));
        Assert.That(Outcome(request), Is.EqualTo(expected));
    }

    [Test]
    public void Request_line_limit_is_enforced_before_the_line_ends()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 64 };
        string line = RequestLineOf(64);
        // 63 bytes without the final LF could still become a 64-byte line; 64 bytes without LF cannot.
        Assert.That(Outcome(line[..62], limits), Is.EqualTo(-1));
        Assert.That(Outcome(line[..63], limits), Is.EqualTo(-1), "ends in CR: the LF makes 64");
        Assert.That(Outcome(new string('G', 63), limits), Is.EqualTo(-1));
        Assert.That(Outcome(new string('G', 64), limits), Is.EqualTo(414));
        Assert.That(Outcome(line + "Host: a\r\n\r\n", limits), Is.EqualTo(0));
        Assert.That(Outcome(RequestLineOf(65) + "Host: a\r\n\r\n", limits), Is.EqualTo(414));
    }

    [Test]
    public void Request_line_limit_found_byte_at_a_time_without_the_end()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 128 };
        byte[] bytes = Of("GET /" + new string('a', 1000));
        var head = new RequestHead();
        int scanned = 0;
        int length = 0;
        HttpParseStatus status;
        HttpRequestError error;
        do
        {
            length++;
            status = HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), limits, head, ref scanned, out error);
        }
        while (status == HttpParseStatus.NeedMoreData);

        Assert.That(error.StatusCode, Is.EqualTo(414));
        Assert.That(length, Is.EqualTo(128));
    }

    [Test]
    public void Empty_lines_before_the_request_line_are_bounded()
    {
        var limits = new HttpLimits { MaxRequestLineBytes = 64 };
        Assert.That(Outcome(string.Concat(Enumerable.Repeat("\r\n", 32)) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", limits), Is.EqualTo(0));
        Assert.That(Outcome(string.Concat(Enumerable.Repeat("\r\n", 33)), limits), Is.EqualTo(400));
    }

    [Test]
    public void Header_total_limit_at_exactly_the_limit_and_one_over()
    {
        var limits = new HttpLimits { MaxRequestHeadersTotalBytes = 200 };
        const string host = "Host: a\r\n"; // 9 bytes
        string exact = "GET / HTTP/1.1\r\n" + host + HeaderLineOf(191) + "\r\n";
        string over = "GET / HTTP/1.1\r\n" + host + HeaderLineOf(192) + "\r\n";
        Assert.That(Outcome(exact, limits), Is.EqualTo(0));
        Assert.That(Outcome(over, limits), Is.EqualTo(431));
    }

    [Test]
    public void Default_header_total_limit_is_32_KiB()
    {
        string exact = "GET / HTTP/1.1\r\nHost: a\r\n" + HeaderLineOf(32 * 1024 - 9) + "\r\n";
        string over = "GET / HTTP/1.1\r\nHost: a\r\n" + HeaderLineOf(32 * 1024 - 8) + "\r\n";
        Assert.That(Outcome(exact), Is.EqualTo(0));
        Assert.That(Outcome(over), Is.EqualTo(431));
    }

    [Test]
    public void Header_total_limit_is_enforced_before_the_head_ends()
    {
        var limits = new HttpLimits { MaxRequestHeadersTotalBytes = 100 };
        string start = "GET / HTTP/1.1\r\n";

        // 99 header bytes, not ending in CR: the line needs at least a LF more, making 100 - still possible.
        Assert.That(Outcome(start + "Host: a\r\n" + new string('x', 90), limits), Is.EqualTo(-1));
        Assert.That(Outcome(start + "Host: a\r\n" + new string('x', 91), limits), Is.EqualTo(431));

        // 100 bytes of complete lines, then the start of the final empty line: still fine.
        string full = "Host: a\r\n" + HeaderLineOf(91);
        Assert.That(Outcome(start + full, limits), Is.EqualTo(-1));
        Assert.That(Outcome(start + full + "\r", limits), Is.EqualTo(-1));
        Assert.That(Outcome(start + full + "\r\n", limits), Is.EqualTo(0));
        Assert.That(Outcome(start + full + "X", limits), Is.EqualTo(431));
    }

    [Test]
    public void Header_total_limit_found_byte_at_a_time_without_the_end()
    {
        var limits = new HttpLimits { MaxRequestHeadersTotalBytes = 1000 };
        var text = new StringBuilder("GET / HTTP/1.1\r\n");
        while (text.Length < 5000)
        {
            text.Append("X-Filler: 0123456789\r\n");
        }

        byte[] bytes = Of(text.ToString());
        var head = new RequestHead();
        int scanned = 0;
        for (int length = 1; length <= bytes.Length; length++)
        {
            HttpParseStatus status = HttpRequestParser.TryParseHead(bytes.AsSpan(0, length), limits, head, ref scanned, out HttpRequestError error);
            if (status == HttpParseStatus.Error)
            {
                Assert.That(error.StatusCode, Is.EqualTo(431));
                Assert.That(length, Is.LessThanOrEqualTo(16 + 1001));
                return;
            }
        }

        Assert.Fail("never refused");
    }

    [TestCase(100, 0)]
    [TestCase(101, 431)]
    [TestCase(1000, 431)]
    public void Header_count_limit(int count, int expected)
    {
        var text = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 1; i < count; i++)
        {
            text.Append("X-").Append(i).Append(": v\r\n");
        }

        Assert.That(Outcome(text.Append("\r\n").ToString()), Is.EqualTo(expected));
    }

    [Test]
    public void Header_count_limit_is_enforced_before_the_head_ends()
    {
        var limits = new HttpLimits { MaxRequestHeaderCount = 3 };
        Assert.That(Outcome("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n", limits), Is.EqualTo(-1));
        Assert.That(Outcome("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n", limits), Is.EqualTo(431));
    }

    [Test]
    public void Limits_refuse_nonsense_values()
    {
        var limits = new HttpLimits();
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxRequestLineBytes = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxRequestHeadersTotalBytes = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxRequestHeaderCount = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxRequestBodyBytes = -1);
        Assert.Throws<ArgumentOutOfRangeException>(() => limits.MaxChunkSizeLineBytes = 0);
        Assert.That(limits.MaxRequestLineBytes, Is.EqualTo(8192));
        Assert.That(limits.MaxRequestHeadersTotalBytes, Is.EqualTo(32768));
        Assert.That(limits.MaxRequestHeaderCount, Is.EqualTo(100));
        Assert.That(limits.MaxRequestBodyBytes, Is.EqualTo(30_000_000));
    }
}
