using Snow.Native.Http;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class RequestPathDecoderTests
{
    [TestCase("/", "/")]
    [TestCase("", "/", Description = "absolute-form without a path")]
    [TestCase("/plain/path", "/plain/path")]
    [TestCase("/a%20b", "/a b")]
    [TestCase("/%41%42c", "/ABc")]
    [TestCase("/%7e%7E", "/~~", Description = "hex digits in either case")]
    [TestCase("/caf%C3%A9", "/café")]
    [TestCase("/%E2%82%AC", "/€")]
    [TestCase("/%F0%9F%98%80", "/😀", Description = "4-byte UTF-8 becomes a surrogate pair")]
    [TestCase("/%E6%97%A5%E6%9C%AC", "/日本")]
    [TestCase("/a%2Fb", "/a%2Fb", Description = "%2F stays encoded")]
    [TestCase("/a%2fb", "/a%2fb", Description = "as written")]
    [TestCase("/a%3Fb%23c", "/a?b#c")]
    [TestCase("/a+b", "/a+b", Description = "'+' is not a space in a path")]
    [TestCase("//a//b/", "//a//b/", Description = "empty segments are kept")]
    [TestCase("/a/./b/../c", "/a/c")]
    [TestCase("/a/b/c/./../../g", "/a/g")]
    [TestCase("/..", "/")]
    [TestCase("/../..", "/")]
    [TestCase("/../a", "/a", Description = "never above root")]
    [TestCase("/a/..", "/")]
    [TestCase("/a/b/..", "/a/")]
    [TestCase("/a/.", "/a/")]
    [TestCase("/.", "/")]
    [TestCase("/./a", "/a")]
    [TestCase("/a/...", "/a/...", Description = "three dots is a name")]
    [TestCase("/a/..b/.c", "/a/..b/.c")]
    [TestCase("/a/%2E%2E/b", "/b", Description = "encoded dots are dots")]
    [TestCase("/a/%2e/b", "/a/b")]
    [TestCase("/a/..%2Fb", "/a/..%2Fb", Description = "%2F does not make '..' a segment")]
    [TestCase("/a/b%2F..%2Fc", "/a/b%2F..%2Fc")]
    [TestCase("/a//../b", "/a/b")]
    public void Decodes(string raw, string expected)
    {
        byte[] bytes = Of(raw);
        var destination = new char[Math.Max(1, bytes.Length)];
        Assert.That(RequestPathDecoder.TryDecode(bytes, destination, out int written), Is.True);
        Assert.That(new string(destination, 0, written), Is.EqualTo(expected));
    }

    [TestCase("/%zz", Description = "not hex")]
    [TestCase("/%4", Description = "truncated")]
    [TestCase("/%", Description = "truncated")]
    [TestCase("/a%g0")]
    [TestCase("/%00", Description = "decoded NUL")]
    [TestCase("/index/%0A", Description = "decoded LF: '$' would match before it")]
    [TestCase("/a%0Db", Description = "decoded CR")]
    [TestCase("/a%09b", Description = "decoded TAB")]
    [TestCase("/a%7F", Description = "decoded DEL")]
    [TestCase("/%C3", Description = "truncated UTF-8")]
    [TestCase("/%C3x", Description = "continuation not escaped")]
    [TestCase("/%C3%28", Description = "bad continuation byte")]
    [TestCase("/%A9", Description = "continuation byte first")]
    [TestCase("/%C0%AF", Description = "overlong '/'")]
    [TestCase("/%C1%BF", Description = "overlong")]
    [TestCase("/%E0%80%AF", Description = "3-byte overlong")]
    [TestCase("/%F0%80%80%AF", Description = "4-byte overlong")]
    [TestCase("/%ED%A0%80", Description = "UTF-16 surrogate")]
    [TestCase("/%F4%90%80%80", Description = "above U+10FFFF")]
    [TestCase("/%F8%88%80%80%80", Description = "5-byte form")]
    [TestCase("/%FF")]
    [TestCase("/caf\u00E9", Description = "raw non-ASCII byte")]
    [TestCase("a/b", Description = "not starting with '/'")]
    [TestCase("*")]
    public void Refuses(string raw)
    {
        byte[] bytes = Of(raw);
        var destination = new char[bytes.Length + 8];
        Assert.That(RequestPathDecoder.TryDecode(bytes, destination, out _), Is.False);
    }

    [Test]
    public void Refuses_a_destination_that_is_too_small()
    {
        Assert.That(RequestPathDecoder.TryDecode("/abc"u8, new char[3], out _), Is.False);
        Assert.That(RequestPathDecoder.TryDecode("/a%2Fb"u8, new char[5], out _), Is.False);
        Assert.That(RequestPathDecoder.TryDecode("/%F0%9F%98%80"u8, new char[2], out _), Is.False);
        Assert.That(RequestPathDecoder.TryDecode(""u8, Span<char>.Empty, out _), Is.False);
        Assert.That(RequestPathDecoder.TryDecode("/abc"u8, new char[4], out int written), Is.True);
        Assert.That(written, Is.EqualTo(4));
    }

    [Test]
    public void Decoding_allocates_nothing()
    {
        byte[] raw = Of("/api/v1/caf%C3%A9/./items/../%2F/x%20y");
        var destination = new char[raw.Length];
        RequestPathDecoder.TryDecode(raw, destination, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool ok = RequestPathDecoder.TryDecode(raw, destination, out int written);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(ok, Is.True);
        Assert.That(allocated, Is.EqualTo(0));
        Assert.That(new string(destination, 0, written), Is.EqualTo("/api/v1/café/%2F/x y"));
    }
}
