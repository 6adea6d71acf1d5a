using System.Collections.Concurrent;
using Snow.Native;
using Snow.Native.Demo;

// The three examples of the original Snow, in one server.

// 1. Plain handlers answer at once.
HttpResponse Index(HttpRequest request) => new("OK");
HttpResponse Home(HttpRequest request) => new("home");

// 2. A handler parks on a TimeoutFuture; the loop serves other requests for the five seconds it waits.
IEnumerable<Step> Async(HttpRequest request)
{
    yield return new TimeoutFuture(5);
    yield return new HttpResponse("async");
}

// 3. Long polling: /req/ parks on a future; /stop/ completes the oldest parked /req/ with "done".
var waiting = new ConcurrentQueue<Future>();

IEnumerable<Step> Req(HttpRequest request)
{
    var future = new Future((request, future) => new HttpResponse(future.GetResult<string>() ?? ""));
    waiting.Enqueue(future);
    yield return future;
}

HttpResponse Stop(HttpRequest request)
{
    // Skip futures whose clients went away while parked.
    while (waiting.TryDequeue(out Future? future))
    {
        if (!future.IsAbandoned && future.SetResult("done")) break;
    }
    return new HttpResponse("stop");
}

// 4. WebSockets and server-sent events: /ws/ echoes every message as the same kind; /events/ sends a tick a second.
HttpResponseBase WebSocketEcho(HttpRequest request) => request.AcceptWebSocket(async ws =>
{
    while (true)
    {
        WebSocketMessage message = await ws.ReceiveAsync();
        if (message.IsClose) return;
        await ws.SendAsync(message.Data, message.Kind);
    }
});

HttpResponseBase Events(HttpRequest request)
{
    var events = new ServerSentEvents(request);
    long tick = long.TryParse(events.LastEventId, out long last) ? last : 0; // a reconnecting client goes on where it was
    _ = Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync() && await events.SendAsync($"tick {++tick}", eventName: "tick", id: tick.ToString()))
        {
        }
    });
    return events.Response;
}

DemoOptions options;
try
{
    options = DemoOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(DemoOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(DemoOptions.Usage);
    return 0;
}

// 4. More than one instance (--redis HOST:PORT): /req/ parks on the key "demo" through Redis, and /stop/ on any
// instance releases every /req/ parked on every instance, so that two demos behind a load balancer act as one.
RedisFutures? redis = null;
if (options.Redis is string redisAddress)
{
    redis = await RedisFutures.ConnectAsync(redisAddress);
    if (!redis.IsConnected) Console.Error.WriteLine($"snow: Redis at {redisAddress} is not reachable yet; /req/ parks and /stop/ answers 503 until it is");
}

IEnumerable<Step> ReqAcrossInstances(HttpRequest request)
{
    yield return redis!.Wait("demo", (request, future) => new HttpResponse(future.Result ?? ""));
}

async Task<HttpResponse> StopAcrossInstances(HttpRequest request)
{
    try
    {
        await redis!.PublishAsync("demo", "done");
        return new HttpResponse("stop");
    }
    catch (KeyedPublishException e)
    {
        return new HttpResponse(e.Message, 503, "text/plain; charset=utf-8");
    }
}

var app = new SnowApp(
    [
        ("^/index/$", Index),
        ("^/home/$", Home),
        ("^/async/$", Async),
        redis is null ? ("^/req/$", Req) : new Route("^/req/$", ReqAcrossInstances),
        redis is null ? ("^/stop/$", Stop) : new Route("^/stop/$", StopAcrossInstances),
        ("^/ws/$", WebSocketEcho),
        ("^/events/$", Events),
    ],
    new SnowOptions { Poller = options.Poller, Loops = options.Loops, LoggerFactory = new StandardErrorLoggerFactory() });

try
{
    var endpoints = new List<SnowEndpoint> { new(options.Host, options.Port) };
    if (options.HttpsPort is int httpsPort)
    {
        TlsCertificate certificate = options.CertificatePath is null
            ? new TlsCertificate(SelfSignedCertificate.ForLocalhost())
            : TlsCertificate.FromFiles(options.CertificatePath, options.KeyPath, options.Password);
        endpoints.Add(new SnowEndpoint(options.Host, httpsPort, new HttpsOptions { Certificate = certificate }));
        if (options.CertificatePath is null) Console.WriteLine("HTTPS with a self-signed certificate for localhost (curl -k, or give --cert and --key).");
    }
    app.Start(endpoints);
}
catch (Exception e) when (e is IOException or PlatformNotSupportedException or ArgumentException)
{
    Console.Error.WriteLine($"snow: {e.Message}");
    return 1;
}

Console.WriteLine($"Snow.Native demo listening on {string.Join(" and ", app.Endpoints.Select(e => e.Url))} (poller: {app.PollerName}, loops: {app.LoopCount}{(redis is null ? "" : $", redis: {options.Redis}")})");
Console.WriteLine("Try /index/, /home/, /async/ (answers after 5 s), /req/ (waits) and /stop/ (releases the oldest /req/). Ctrl+C stops.");
Console.WriteLine("WebSockets: ws://.../ws/ echoes every message; server-sent events: /events/ ticks once a second.");
using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Shutdown);
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Shutdown);
await app.Completion;
redis?.Dispose();
Console.WriteLine("stopped");
return 0;

void Shutdown(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    int parked = app.ParkedRequestCount;
    Console.WriteLine(parked == 0
        ? "stopping..."
        : $"stopping: {parked} parked request(s) get up to {app.Options.ShutdownTimeout.TotalSeconds:0} s to be completed...");
    _ = app.StopAsync();
}

