using System.Reflection;
using Snow.Native.Transport;

namespace Snow.Native.Tests.Protocol;

/// <summary>The response types: what each one has, and a cached response that cannot change once it is sent.</summary>
[TestFixture]
public sealed class ResponseApiTests
{
    [Test]
    public void AStreamedResponseHasNoContentMembers()
    {
        Assert.That(typeof(StreamingResponse).IsSubclassOf(typeof(HttpResponse)), Is.False);
        Assert.That(typeof(StreamingResponse).IsSubclassOf(typeof(HttpResponseBase)), Is.True);
        foreach (string member in new[] { "SetContent", "Text", "Bytes" })
        {
            Assert.That(typeof(StreamingResponse).GetMember(member, BindingFlags.Public | BindingFlags.Instance), Is.Empty, member);
        }
    }

    [Test]
    public void HandlersMayBeDeclaredWithEitherResultType()
    {
        static async Task<HttpResponse> OfResponse(HttpRequest r)
        {
            await Task.Yield();
            return new HttpResponse("task of HttpResponse");
        }
        static async ValueTask<HttpResponseBase> OfBase(HttpRequest r)
        {
            await Task.Yield();
            var stream = new StreamingResponse(200, "text/plain");
            stream.Write("streamed");
            stream.Complete();
            return stream;
        }
        using var harness = new ProtocolHarness([new Route("^/a$", OfResponse), new Route("^/b$", OfBase), ("^/c$", (HttpRequest _) => new StreamingResponse(204))]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n"));
        var responses = new List<(int Status, Dictionary<string, string> Headers, string Body)>();
        var sent = new List<byte>();
        Assert.That(harness.RunUntil(() =>
        {
            sent.AddRange(connection.TakeSent());
            try
            {
                responses = Wire.Responses(sent.ToArray());
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return false;
            }
            return responses.Count == 3;
        }), Is.True);
        Assert.That(responses.Select(r => r.Status), Is.EqualTo(new[] { 200, 200, 204 }));
        Assert.That(responses[0].Body, Is.EqualTo("task of HttpResponse"));
        Assert.That(responses[1].Body, Is.EqualTo("streamed"));
    }

    [Test]
    public void ACachedResponseIsReadOnlyOnceSentAndAnswersEveryRequestTheSame()
    {
        var cached = new HttpResponse("cached", 200, "text/plain");
        cached.Headers.Add("X-Cache", "hit");
        ResponseCookie cookie = cached.SetCookie("a", "1");
        Assert.That(cached.IsReadOnly, Is.False, "a response nobody sent yet can change");
        using var harness = new ProtocolHarness([("^/cached$", _ => cached)]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes("GET /cached HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.That(Wire.Responses(connection.TakeSent()).Single().Body, Is.EqualTo("cached"));

        Assert.That(cached.IsReadOnly, Is.True);
        Assert.Throws<InvalidOperationException>(() => cached.SetContent("changed"));
        Assert.Throws<InvalidOperationException>(() => cached.StatusCode = 500);
        Assert.Throws<InvalidOperationException>(() => cached.ContentType = "text/html");
        Assert.Throws<InvalidOperationException>(() => cached.Headers.Add("X-Other", "1"));
        Assert.Throws<InvalidOperationException>(() => cached.Headers.Remove("X-Cache"));
        Assert.Throws<InvalidOperationException>(() => cached.Headers["X-Cache"] = "miss");
        Assert.Throws<InvalidOperationException>(() => cached.SetCookie("b", "2"));
        Assert.Throws<InvalidOperationException>(() => cached.Cookies.Clear());
        Assert.Throws<InvalidOperationException>(() => cookie.Path = "/other");
        Assert.Throws<InvalidOperationException>(() => cookie.Secure = true);

        connection.Feed(Wire.Bytes("GET /cached HTTP/1.1\r\nHost: x\r\n\r\n"));
        var again = Wire.Responses(connection.TakeSent()).Single();
        Assert.That(again.Body, Is.EqualTo("cached"));
        Assert.That(again.Headers["X-Cache"], Is.EqualTo("hit"));
        Assert.That(again.Headers["Set-Cookie"], Is.EqualTo("a=1"));
    }
}
