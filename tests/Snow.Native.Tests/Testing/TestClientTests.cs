using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Json;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Testing;

/// <summary>The test client: an HttpClient served by the app's real HTTP/1.1 protocol over in-process connections.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class TestClientTests(PollerKind poller)
{
    private readonly ConcurrentQueue<Future> _waiting = new();
    private readonly ConcurrentQueue<StreamingResponse> _streams = new();

    [SetUp]
    public void Forget()
    {
        _waiting.Clear(); // the fixture object serves all its tests
        _streams.Clear();
    }

    private SnowApp App(int loops = 1) => new(
    [
        ("^/index/$", (HttpRequest _) => new HttpResponse("OK")),
        new Route("^/echo$", (HttpRequest r) =>
        {
            var response = new HttpResponse(r.Body, 201, r.Headers["Content-Type"]);
            response.Headers.Add("X-Method", r.Method);
            response.Headers.Add("X-Query", r.QueryString);
            response.Headers.Add("X-Custom", r.Headers["X-Custom"] ?? "");
            return response;
        }, "POST", "PUT"),
        new Route("^/todo$", (HttpRequest r) => new JsonResponse<Todo>(r.ReadJson(TestJson.Default.Todo)! with { Done = true }, TestJson.Default.Todo), "POST"),
        ("^/req/$", Req),
        ("^/stop/$", (HttpRequest _) =>
        {
            int released = 0;
            while (_waiting.TryDequeue(out Future? future)) if (future.SetResult("done")) released++;
            return new HttpResponse($"stop {released}");
        }),
        ("^/ticks$", (HttpRequest _) =>
        {
            var stream = new StreamingResponse(200, "text/plain");
            stream.Write("tick 0\n");
            _streams.Enqueue(stream);
            return stream;
        }),
        ("^/big/(?<n>[0-9]+)$", (HttpRequest r) => new HttpResponse(new byte[int.Parse(r.RouteValues["n"])], 200, "application/octet-stream")),
        new Route("^/upload$", Upload, "POST") { StreamBody = true },
    ], new SnowOptions { Poller = poller, Loops = loops, ShutdownTimeout = TimeSpan.Zero });

    private IEnumerable<Step> Req(HttpRequest request)
    {
        var future = new Future((_, f) => new HttpResponse(f.GetResult<string>() ?? ""));
        _waiting.Enqueue(future);
        yield return future;
    }

    private static async Task<HttpResponse> Upload(HttpRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[8192];
        int read;
        while ((read = await request.ReadBodyAsync(buffer)) > 0) hash.AppendData(buffer, 0, read);
        return new HttpResponse(Convert.ToHexString(hash.GetHashAndReset()));
    }

    [Test]
    public async Task ARequestIsServedWithoutAPortOrASocket()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        HttpResponseMessage response = await client.GetAsync("/index/");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("OK"));
        Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("text/html; charset=utf-8"));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(2));
        Assert.That(response.Headers.Date, Is.Not.Null);
        Assert.That(response.Version, Is.EqualTo(HttpVersion.Version11));
        Assert.That(app.LocalEndPoint, Is.Null, "nothing listens");
        Assert.That(app.IsRunning, Is.True);
        Assert.That(SpinWait.SpinUntil(() => app.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True, "the request's connection closed once its response was read");
    }

    [Test]
    public async Task MethodHeadersQueryAndBodyReachTheHandler()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/echo?a=1&b=%20")
        {
            Content = new StringContent("héllo", Encoding.UTF8, "text/plain"),
        };
        request.Headers.Add("X-Custom", "custom value");
        HttpResponseMessage response = await client.SendAsync(request);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("héllo"));
        Assert.That(response.Headers.GetValues("X-Method").Single(), Is.EqualTo("PUT"));
        Assert.That(response.Headers.GetValues("X-Query").Single(), Is.EqualTo("a=1&b=%20"));
        Assert.That(response.Headers.GetValues("X-Custom").Single(), Is.EqualTo("custom value"));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
    }

    [Test]
    public async Task JsonGoesBothWays()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        var todo = new Todo(1, "test client", false, ["x"]);
        HttpResponseMessage response = await client.PostAsJsonAsync("/todo", todo, TestJson.Default.Todo);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        Todo? back = await response.Content.ReadFromJsonAsync(TestJson.Default.Todo);
        Assert.That(back, Is.EqualTo(todo with { Done = true, Tags = back!.Tags }));
        Assert.That(back.Tags, Is.EqualTo(new[] { "x" }));
    }

    [Test]
    public async Task RoutingAnswersAndHeadRequestsKeepTheirShape()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        Assert.That((await client.GetAsync("/nowhere")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        HttpResponseMessage notAllowed = await client.GetAsync("/echo");
        Assert.That(notAllowed.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(notAllowed.Content.Headers.Allow, Is.EquivalentTo(new[] { "POST", "PUT" }));
        using var head = new HttpRequestMessage(HttpMethod.Head, "/index/");
        HttpResponseMessage headResponse = await client.SendAsync(head);
        Assert.That(headResponse.Content.Headers.ContentLength, Is.EqualTo(2));
        Assert.That(await headResponse.Content.ReadAsByteArrayAsync(), Is.Empty);
    }

    [Test]
    public async Task ALongPollIsCompletedByAnotherRequest()
    {
        await using SnowApp app = App(loops: 2);
        using HttpClient client = app.CreateTestClient();
        Task<string> waiting = client.GetStringAsync("/req/");
        Assert.That(SpinWait.SpinUntil(() => app.ParkedRequestCount == 1, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(waiting.IsCompleted, Is.False);
        Assert.That(await client.GetStringAsync("/stop/"), Is.EqualTo("stop 1"));
        Assert.That(await waiting.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("done"));
    }

    [Test]
    public async Task AStreamedResponseIsReadAsItComes()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        using HttpResponseMessage response = await client.GetAsync("/ticks", HttpCompletionOption.ResponseHeadersRead);
        Assert.That(response.Headers.TransferEncodingChunked, Is.True);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.That(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("tick 0"), "the first chunk, while the producer is still open");
        Assert.That(_streams.TryDequeue(out StreamingResponse? stream), Is.True);
        stream!.Write("tick 1\n");
        Assert.That(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("tick 1"));
        stream.Complete();
        Assert.That(await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)), Is.Empty);
    }

    [Test]
    public async Task LargeBodiesGoThroughInBothDirections()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        byte[] big = await client.GetByteArrayAsync("/big/3000000");
        Assert.That(big, Has.Length.EqualTo(3_000_000));

        // A streamed upload far larger than the read buffer: the transport keeps what the server is not reading yet.
        byte[] upload = RandomNumberGenerator.GetBytes(5_000_000);
        HttpResponseMessage response = await client.PostAsync("/upload", new ByteArrayContent(upload));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(Convert.ToHexString(SHA256.HashData(upload))));
    }

    [Test]
    public async Task CancellingAParkedRequestAbandonsIt()
    {
        await using SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        using var cancel = new CancellationTokenSource();
        Task<HttpResponseMessage> parked = client.GetAsync("/req/", cancel.Token);
        Assert.That(SpinWait.SpinUntil(() => app.ParkedRequestCount == 1, TimeSpan.FromSeconds(10)), Is.True);
        cancel.Cancel();
        Assert.That(async () => await parked, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(SpinWait.SpinUntil(() => app.ParkedRequestCount == 0 && app.ConnectionCount == 0, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(_waiting.TryPeek(out Future? future) && future.IsAbandoned, Is.True);
    }

    [Test]
    public async Task ManyRequestsAtOnceOnSeveralLoops()
    {
        await using SnowApp app = App(loops: 2);
        using HttpClient client = app.CreateTestClient();
        string[] answers = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => client.GetStringAsync("/index/")));
        Assert.That(answers, Is.All.EqualTo("OK"));
    }

    [Test]
    public async Task AStartedAppServesTheTestClientBesideItsSocket()
    {
        await using SnowApp app = App();
        app.Start("127.0.0.1", 0);
        using HttpClient client = app.CreateTestClient();
        using var network = new HttpClient { BaseAddress = new Uri(app.Url!) };
        Assert.That(await client.GetStringAsync("/index/"), Is.EqualTo("OK"));
        Assert.That(await network.GetStringAsync("/index/"), Is.EqualTo("OK"));
    }

    [Test]
    public async Task AStoppedAppRefusesNewTestClients()
    {
        SnowApp app = App();
        using HttpClient client = app.CreateTestClient();
        await app.StopAsync();
        Assert.That(() => app.CreateTestClient(), Throws.InvalidOperationException);
        Assert.That(async () => await client.GetAsync("/index/"), Throws.InvalidOperationException);
    }
}
