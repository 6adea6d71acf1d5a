using Snow.Native.Http;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class RequestLineTests
{
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    [TestCase("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, Description = "RFC 9112 2.2: a leading empty line is ignored")]
    [TestCase("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    [TestCase("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "bare LF as leading empty line")]
    [TestCase("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, Description = "bare LF after request line")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, Description = "bare LF after header")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, Description = "bare LF as final line")]
    [TestCase("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, Description = "bare CR after request line")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, Description = "bare CR inside a header value")]
    [TestCase("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "bare CR inside the target")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400, Description = "CR CR LF at the end")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\n\rX: 1\r\n", 400, Description = "a line starting with a bare CR is refused before the head ends")]
    [TestCase("GET / HTTP/1.1\r\nHost: a\r\nX: \r1\r\n\r\n", 400, Description = "bare CR at the start of a value")]
    [TestCase("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "two spaces after method")]
    [TestCase("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "two spaces before version")]
    [TestCase("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, Description = "trailing space")]
    [TestCase(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "leading space")]
    [TestCase("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "tab as separator")]
    [TestCase("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400)]
    [TestCase("GET\r\nHost: a\r\n\r\n", 400, Description = "method only")]
    [TestCase("GET /\r\nHost: a\r\n\r\n", 400, Description = "HTTP/0.9 style, no version")]
    [TestCase("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "method not a token")]
    [TestCase("G\u00C9T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "method with a high byte")]
    [TestCase("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n", 0, Description = "unknown token method is fine")]
    [TestCase("get / HTTP/1.1\r\nHost: a\r\n\r\n", 0, Description = "methods are case-sensitive: 'get' is a custom method")]
    [TestCase("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501)]
    [TestCase("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "CONNECT needs authority-form")]
    public void Request_line_and_line_endings(string request, int expected) =>
        Assert.That(Outcome(request), Is.EqualTo(expected));

    [TestCase("GET /a\u0001b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "control byte")]
    [TestCase("GET /a\u007Fb HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "DEL")]
    [TestCase("GET /a\u00E9b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "high byte")]
    [TestCase("GET /a\u0000b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "NUL")]
    [TestCase("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "fragment")]
    [TestCase("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "relative path")]
    [TestCase("GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "scheme other than http(s)")]
    [TestCase("GET http://user@a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "userinfo")]
    [TestCase("GET http:///b HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "empty authority")]
    [TestCase("GET http://a:80x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "bad port")]
    [TestCase("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, Description = "asterisk-form only with OPTIONS")]
    [TestCase("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    [TestCase("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400)]
    [TestCase("GET /a/b?c=d&e=%20 HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    [TestCase("GET /~!$&'()*+,;=:@-._%41?/? HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    [TestCase("GET HTTP://EXAMPLE.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 0, Description = "scheme is case-insensitive")]
    [TestCase("GET HtTpS://example.com HTTP/1.1\r\nHost: a\r\n\r\n", 0)]
    public void Request_target(string request, int expected) =>
        Assert.That(Outcome(request), Is.EqualTo(expected));

    [TestCase("HTTP/1.1", 0)]
    [TestCase("HTTP/1.0", 0)]
    [TestCase("HTTP/2.0", 505)]
    [TestCase("HTTP/1.2", 505)]
    [TestCase("HTTP/0.9", 505)]
    [TestCase("HTTP/3.0", 505)]
    [TestCase("HTTP/9.9", 505)]
    [TestCase("http/1.1", 400, Description = "the name is case-sensitive")]
    [TestCase("HTTP/1.10", 400)]
    [TestCase("HTTP/11", 400)]
    [TestCase("HTTP/1.", 400)]
    [TestCase("HTTP/a.b", 400)]
    [TestCase("HTTP/2", 400)]
    [TestCase("HTTPS/1.1", 400)]
    [TestCase("HTTP 1.1", 400)]
    [TestCase("", 400)]
    public void Version(string version, int expected) =>
        Assert.That(Outcome("GET / " + version + "\r\nHost: a\r\n\r\n"), Is.EqualTo(expected));

    [TestCase("GET", nameof(HttpMethodKind.Get))]
    [TestCase("HEAD", nameof(HttpMethodKind.Head))]
    [TestCase("POST", nameof(HttpMethodKind.Post))]
    [TestCase("PUT", nameof(HttpMethodKind.Put))]
    [TestCase("DELETE", nameof(HttpMethodKind.Delete))]
    [TestCase("OPTIONS", nameof(HttpMethodKind.Options))]
    [TestCase("PATCH", nameof(HttpMethodKind.Patch))]
    [TestCase("TRACE", nameof(HttpMethodKind.Trace))]
    [TestCase("PROPFIND", nameof(HttpMethodKind.Custom))]
    [TestCase("GETS", nameof(HttpMethodKind.Custom))]
    public void Method_is_recognised(string method, string kindName)
    {
        HttpMethodKind kind = Enum.Parse<HttpMethodKind>(kindName);
        string request = method + " / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n";
        Assert.That(Parse(request, out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.MethodKind, Is.EqualTo(kind));
        Assert.That(head.Method, Is.EqualTo(method));
        Assert.That(Text(head.MethodRange.Of(Of(request))), Is.EqualTo(method));
    }

    [Test]
    public void Known_methods_are_shared_strings_and_a_repeated_custom_method_is_reused()
    {
        var limits = new HttpLimits();
        var head = new RequestHead();
        int scanned = 0;
        HttpRequestParser.TryParseHead(Of("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), limits, head, ref scanned, out _);
        Assert.That(head.Method, Is.SameAs("GET"));

        HttpRequestParser.TryParseHead(Of("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n"), limits, head, ref scanned, out _);
        string first = head.Method;
        HttpRequestParser.TryParseHead(Of("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n"), limits, head, ref scanned, out _);
        Assert.That(head.Method, Is.SameAs(first));
    }

    [TestCase("GET /a/b?x=1&y=2 HTTP/1.1", nameof(RequestTargetForm.Origin), "/a/b?x=1&y=2", "/a/b", "x=1&y=2", true)]
    [TestCase("GET /a/b HTTP/1.1", nameof(RequestTargetForm.Origin), "/a/b", "/a/b", "", false)]
    [TestCase("GET /a? HTTP/1.1", nameof(RequestTargetForm.Origin), "/a?", "/a", "", true)]
    [TestCase("GET /a?b?c HTTP/1.1", nameof(RequestTargetForm.Origin), "/a?b?c", "/a", "b?c", true)]
    [TestCase("GET http://h.example:8080/p/q?r HTTP/1.1", nameof(RequestTargetForm.Absolute), "http://h.example:8080/p/q?r", "/p/q", "r", true)]
    [TestCase("GET http://h.example HTTP/1.1", nameof(RequestTargetForm.Absolute), "http://h.example", "/", "", false)]
    [TestCase("GET https://h.example?q HTTP/1.1", nameof(RequestTargetForm.Absolute), "https://h.example?q", "/", "q", true)]
    [TestCase("OPTIONS * HTTP/1.1", nameof(RequestTargetForm.Asterisk), "*", "", "", false)]
    public void Target_form_path_and_query(string requestLine, string formName, string target, string path, string query, bool hasQuery)
    {
        RequestTargetForm form = Enum.Parse<RequestTargetForm>(formName);
        byte[] bytes = Of(requestLine + "\r\nHost: h.example\r\n\r\n");
        var head = new RequestHead();
        int scanned = 0;
        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.TargetForm, Is.EqualTo(form));
        Assert.That(Text(head.TargetRange.Of(bytes)), Is.EqualTo(target));
        Assert.That(Text(head.GetPath(bytes)), Is.EqualTo(path));
        Assert.That(Text(head.QueryRange.Of(bytes)), Is.EqualTo(query));
        Assert.That(head.HasQuery, Is.EqualTo(hasQuery));
    }

    [Test]
    public void Absolute_form_authority_is_the_host_even_when_the_Host_header_differs()
    {
        byte[] bytes = Of("GET http://origin.example:81/x HTTP/1.1\r\nHost: other.example\r\n\r\n");
        var head = new RequestHead();
        int scanned = 0;
        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(Text(head.HostRange.Of(bytes)), Is.EqualTo("origin.example:81"));
        Assert.That(Text(head.TargetAuthorityRange.Of(bytes)), Is.EqualTo("origin.example:81"));
    }

    [Test]
    public void Leading_empty_lines_count_in_HeadLength_and_offsets_are_relative_to_the_input()
    {
        byte[] bytes = Of("\r\n\r\nGET /p HTTP/1.1\r\nHost: a\r\n\r\n");
        var head = new RequestHead();
        int scanned = 0;
        Assert.That(HttpRequestParser.TryParseHead(bytes, new HttpLimits(), head, ref scanned, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.HeadLength, Is.EqualTo(bytes.Length));
        Assert.That(head.MethodRange.Start, Is.EqualTo(4));
        Assert.That(Text(head.GetPath(bytes)), Is.EqualTo("/p"));
    }

    [Test]
    public void Version_is_reported()
    {
        Assert.That(Parse("GET / HTTP/1.0\r\n\r\n", out RequestHead head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.Version, Is.EqualTo(HttpVersionKind.Http10));
        Assert.That(Parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", out head, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(head.Version, Is.EqualTo(HttpVersionKind.Http11));
    }
}
