using System.Text;
using Snow.Native.Transport;

namespace Snow.Native.Tests.Protocol;

/// <summary>
/// A mixed pipeline (GET, Content-Length and chunked POSTs, a parked request, a streamed body) fed in random
/// splits: every response arrives, in request order, with the right body, whatever the split.
/// </summary>
[TestFixture]
public sealed class Http1SplitFuzzTests
{
    private static Route[] Routes() =>
    [
        ("^/get/(?<n>[0-9]+)$", r => new HttpResponse("get " + r.RouteValues["n"])),
        new Route("^/echo$", r => new HttpResponse("echo " + r.BodyText), "POST"),
        ("^/wait$", Wait),
        new Route("^/count$", Count, "POST") { StreamBody = true },
    ];

    private static IEnumerable<Step> Wait(HttpRequest request)
    {
        yield return new TimeoutFuture(TimeSpan.Zero);
        yield return new HttpResponse("waited");
    }

    private static async Task<HttpResponse> Count(HttpRequest request)
    {
        byte[] buffer = new byte[7];
        long total = 0;
        int read;
        while ((read = await request.ReadBodyAsync(buffer).ConfigureAwait(false)) > 0) total += read;
        return new HttpResponse("count " + total);
    }

    [Test]
    public void RandomSplitsOfAMixedPipelineAreAnsweredInOrder([Range(1, 40)] int seed)
    {
        var random = new Random(seed);
        var requests = new StringBuilder();
        var expected = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            switch (random.Next(5))
            {
                case 0:
                    requests.Append($"GET /get/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
                    expected.Add($"get {i}");
                    break;
                case 1:
                    string body = new string('b', random.Next(0, 300));
                    requests.Append($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n{body}");
                    expected.Add("echo " + body);
                    break;
                case 2:
                    requests.Append("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
                    expected.Add("echo abcde");
                    break;
                case 3:
                    requests.Append("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
                    expected.Add("waited");
                    break;
                default:
                    int length = random.Next(0, 5000);
                    requests.Append($"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").Append('c', length);
                    expected.Add($"count {length}");
                    break;
            }
        }
        byte[] bytes = Encoding.ASCII.GetBytes(requests.ToString());

        using var harness = new ProtocolHarness(Routes());
        InMemoryTransport connection = harness.Connect();
        var sent = new List<byte>();
        int at = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (at < bytes.Length || ResponsesIn(sent) < expected.Count)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"no progress: {at} of {bytes.Length} bytes fed, {ResponsesIn(sent)} responses");
            harness.Advance(TimeSpan.FromMilliseconds(5)); // timers (the TimeoutFuture) run on the manual clock
            if (at < bytes.Length && connection.Reading)
            {
                int piece = Math.Min(bytes.Length - at, 1 + random.Next(random.Next(2) == 0 ? 8 : 700));
                at += connection.FeedWhileReading(bytes.AsSpan(at, piece));
            }
            Assert.That(harness.RunUntil(() =>
            {
                sent.AddRange(connection.TakeSent());
                return connection.Reading || ResponsesIn(sent) == expected.Count;
            }, TimeSpan.FromSeconds(10)), Is.True, $"stuck after {at} of {bytes.Length} bytes, {ResponsesIn(sent)} responses");
            Assert.That(connection.IsClosed, Is.False);
        }
        var responses = Wire.Responses(sent.ToArray());
        Assert.That(responses.Select(r => r.Body), Is.EqualTo(expected));
        Assert.That(responses.All(r => r.Status == 200), Is.True);
    }

    private static int ResponsesIn(List<byte> sent)
    {
        try
        {
            return Wire.Responses(sent.ToArray()).Count;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return -1; // a response is still incomplete
        }
    }
}
