using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.Json;

/// <summary>
/// JSON responses serialized straight into the output buffer (the Content-Length filled in afterwards) and request
/// bodies read as JSON, over the in-memory transport.
/// </summary>
[TestFixture]
public sealed class JsonResponseTests
{
    private static readonly Todo Sample = new(7, "write tests", true, ["a", "b"]);

    private static List<(int Status, Dictionary<string, string> Headers, string Body)> Exchange(ProtocolHarness harness, string requests, int expected)
    {
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes(requests));
        var sent = new List<byte>();
        var responses = new List<(int Status, Dictionary<string, string> Headers, string Body)>();
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
            return responses.Count >= expected;
        }), Is.True, Wire.Text(sent.ToArray()));
        return responses;
    }

    [Test]
    public void AValueIsSerializedWithItsLengthAndContentType()
    {
        using var harness = new ProtocolHarness([("^/todo$", (HttpRequest _) => new JsonResponse<Todo>(Sample, TestJson.Default.Todo))]);
        var response = Exchange(harness, "GET /todo HTTP/1.1\r\nHost: x\r\n\r\n", 1).Single();
        string expected = JsonSerializer.Serialize(Sample, TestJson.Default.Todo);
        Assert.That(response.Status, Is.EqualTo(200));
        Assert.That(response.Headers["Content-Type"], Is.EqualTo("application/json; charset=utf-8"));
        Assert.That(response.Headers["Content-Length"], Is.EqualTo(Encoding.UTF8.GetByteCount(expected).ToString()));
        Assert.That(response.Body, Is.EqualTo(expected));
    }

    [Test]
    public void PipelinedJsonResponsesOfEverySizeKeepTheirOrderAndLengths()
    {
        // From 1 byte of body to several output buffers (4 KiB each): the writer grows the output under the serializer.
        int[] sizes = [0, 1, 9, 10, 100, 3000, 5000, 70_000];
        using var harness = new ProtocolHarness([("^/text/(?<n>[0-9]+)$", (HttpRequest r) =>
            new JsonResponse<string>(new string('x', int.Parse(r.RouteValues["n"])), TestJson.Default.String))]);
        string requests = string.Concat(sizes.Select(n => $"GET /text/{n} HTTP/1.1\r\nHost: x\r\n\r\n"));
        var responses = Exchange(harness, requests, sizes.Length);
        Assert.That(responses, Has.Count.EqualTo(sizes.Length));
        for (int i = 0; i < sizes.Length; i++)
        {
            string expected = "\"" + new string('x', sizes[i]) + "\"";
            Assert.That(responses[i].Body, Is.EqualTo(expected), $"size {sizes[i]}");
            Assert.That(responses[i].Headers["Content-Length"], Is.EqualTo(expected.Length.ToString()));
        }
    }

    [Test]
    public void HeadGetsTheLengthWithoutTheBody()
    {
        using var harness = new ProtocolHarness([("^/todo$", (HttpRequest _) => new JsonResponse<Todo>(Sample, TestJson.Default.Todo))]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes("HEAD /todo HTTP/1.1\r\nHost: x\r\n\r\nGET /todo HTTP/1.1\r\nHost: x\r\n\r\n"));
        harness.RunPending();
        string text = Wire.Text(connection.TakeSent());
        int length = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(Sample, TestJson.Default.Todo));
        int second = text.IndexOf("HTTP/1.1 200", 1, StringComparison.Ordinal);
        Assert.That(second, Is.GreaterThan(0), text);
        string headResponse = text[..second];
        Assert.That(headResponse, Does.Contain($"Content-Length: {length}\r\n"));
        Assert.That(headResponse, Does.EndWith("\r\n\r\n"), "no body after the HEAD response's head");
        Assert.That(text[second..], Does.EndWith(JsonSerializer.Serialize(Sample, TestJson.Default.Todo)));
    }

    [Test]
    public void AStatusWithoutContentSendsNoBodyAndNoLength()
    {
        using var harness = new ProtocolHarness([("^/none$", (HttpRequest _) => new JsonResponse<Todo>(Sample, TestJson.Default.Todo, 204))]);
        var response = Exchange(harness, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n", 1).Single();
        Assert.That(response.Status, Is.EqualTo(204));
        Assert.That(response.Headers.ContainsKey("Content-Length"), Is.False);
        Assert.That(response.Body, Is.Empty);
    }

    [Test]
    public void AValueThatFailsToSerializeGets500AndNothingOfItIsSent()
    {
        using var harness = new ProtocolHarness([
            ("^/bad$", (HttpRequest _) => new JsonResponse<Exploding>(new Exploding(), TestJson.Default.Exploding)),
            ("^/ok$", (HttpRequest _) => new JsonResponse<Todo>(Sample, TestJson.Default.Todo)),
        ]);
        var responses = Exchange(harness, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n", 3);
        Assert.That(responses.Select(r => r.Status), Is.EqualTo(new[] { 200, 500, 200 }));
        Assert.That(responses[1].Body, Does.Not.Contain("before"), "the partly written value was taken back");
        Assert.That(responses[2].Body, Is.EqualTo(JsonSerializer.Serialize(Sample, TestJson.Default.Todo)));
    }

    [Test]
    public void TheContextsOptionsShapeTheOutput()
    {
        using var harness = new ProtocolHarness([("^/todo$", (HttpRequest _) => new JsonResponse<Todo>(Sample, IndentedJson.Default.Todo))]);
        var response = Exchange(harness, "GET /todo HTTP/1.1\r\nHost: x\r\n\r\n", 1).Single();
        Assert.That(response.Body, Is.EqualTo(JsonSerializer.Serialize(Sample, IndentedJson.Default.Todo)));
        Assert.That(response.Body, Does.Contain("\n  \"id\": 7"));
    }

    [Test]
    public void ABufferedBodyIsReadAsJsonInPlace()
    {
        using var harness = new ProtocolHarness([new Route("^/todo$", (HttpRequest r) =>
        {
            Todo? todo = r.ReadJson(TestJson.Default.Todo);
            return new JsonResponse<Todo>(todo! with { Done = !todo.Done }, TestJson.Default.Todo);
        }, "POST")]);
        string body = JsonSerializer.Serialize(Sample, TestJson.Default.Todo);
        var response = Exchange(harness, $"POST /todo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}", 1).Single();
        Assert.That(response.Body, Is.EqualTo(JsonSerializer.Serialize(Sample with { Done = false }, TestJson.Default.Todo)));
    }

    [Test]
    public void AStreamedChunkedBodyIsReadAsJsonAsItArrives()
    {
        static async Task<HttpResponseBase> Title(HttpRequest r)
        {
            Todo? todo = await r.ReadJsonAsync(TestJson.Default.Todo);
            return new JsonResponse<string>(todo!.Title, TestJson.Default.String);
        }
        using var harness = new ProtocolHarness([new Route("^/todo$", Title, "POST") { StreamBody = true }]);
        string body = JsonSerializer.Serialize(Sample, TestJson.Default.Todo);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes("POST /todo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        foreach (string piece in new[] { body[..5], body[5..20], body[20..] })
        {
            harness.RunPending();
            connection.Feed(Wire.Bytes($"{piece.Length:x}\r\n{piece}\r\n"));
        }
        connection.Feed(Wire.Bytes("0\r\n\r\n"));
        var sent = new List<byte>();
        Assert.That(harness.RunUntil(() =>
        {
            sent.AddRange(connection.TakeSent());
            return Wire.Text(sent.ToArray()).EndsWith("\"write tests\"", StringComparison.Ordinal);
        }), Is.True, Wire.Text(sent.ToArray()));
    }

    [Test]
    public void MalformedJsonInTheBodyFailsTheHandler()
    {
        using var harness = new ProtocolHarness([new Route("^/todo$", (HttpRequest r) => new JsonResponse<Todo>(r.ReadJson(TestJson.Default.Todo)!, TestJson.Default.Todo), "POST")]);
        var response = Exchange(harness, "POST /todo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"id\"", 1).Single();
        Assert.That(response.Status, Is.EqualTo(500));
    }

    [Test]
    public void ACachedJsonResponseAnswersManyRequests()
    {
        var cached = new JsonResponse<Todo>(Sample, TestJson.Default.Todo);
        using var harness = new ProtocolHarness([("^/todo$", (HttpRequest _) => cached)]);
        var responses = Exchange(harness, string.Concat(Enumerable.Repeat("GET /todo HTTP/1.1\r\nHost: x\r\n\r\n", 5)), 5);
        Assert.That(responses.Select(r => r.Body).Distinct().Single(), Is.EqualTo(JsonSerializer.Serialize(Sample, TestJson.Default.Todo)));
        Assert.That(cached.IsReadOnly, Is.True);
    }
}

public sealed record Todo(int Id, string Title, bool Done, string[] Tags);

/// <summary>A value whose serialization throws half-way: its first property is written, the second throws.</summary>
public sealed class Exploding
{
    public string Before => "before";

    public string After => throw new InvalidOperationException("boom");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Todo))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Exploding))]
internal sealed partial class TestJson : JsonSerializerContext;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(Todo))]
internal sealed partial class IndentedJson : JsonSerializerContext;
