using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Snow.Native;
using Snow.Native.BenchServer;
using Snow.Native.Polling;

string host = "127.0.0.1";
int port = 8080;
int loops = 0;
PollerKind poller = PollerKind.Auto;
ulong? maxOpenFiles = null;
long? maxBody = null;
string? redisAddress = null;
int publishBench = 0;
int? httpsPort = null;
string? certificatePath = null, keyPath = null;
TlsEngine tlsEngine = TlsEngine.Auto;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--host": host = Value(); break;
        case "--port": port = int.Parse(Value()); break;
        case "--loops": loops = int.Parse(Value()); break;
        case "--poller": poller = PollerFactory.Parse(Value()); break;
        case "--max-open-files": maxOpenFiles = ulong.Parse(Value()); break;
        case "--max-body": maxBody = long.Parse(Value()); break;
        case "--redis": redisAddress = Value(); break;
        case "--publish-bench": publishBench = int.Parse(Value()); break;
        case "--https-port": httpsPort = int.Parse(Value()); break;
        case "--cert": certificatePath = Value(); break;
        case "--key": keyPath = Value(); break;
        case "--tls-engine": tlsEngine = Enum.Parse<TlsEngine>(Value(), ignoreCase: true); break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; usage: --host H --port P --loops N --poller epoll|kqueue|select [--max-open-files N] [--max-body BYTES] [--https-port P --cert PEM --key PEM [--tls-engine auto|openssl|sslstream]] [--redis HOST:PORT [--publish-bench COUNT]]");
            return 2;
    }
}

// For the descriptor-exhaustion test: lower both limits so the server really runs out (EMFILE).
if (maxOpenFiles is ulong limit) Snow.Native.Interop.Libc.LimitOpenFiles(limit);

// --redis: /park/ parks on the key "bench" through Snow.Native.Redis and /release/ publishes to it, so that one
// /release/ on any instance answers every /park/ on every instance sharing that Redis.
RedisFutures? redis = redisAddress is null ? null : await RedisFutures.ConnectAsync(redisAddress);
if (redis is not null && publishBench > 0) return await PublishBench.RunAsync(redis, publishBench);

var parked = new ConcurrentQueue<Future>();
SnowApp? appRef = null;
byte[] helloWorld = "Hello, World!"u8.ToArray();

var app = new SnowApp(
    [
        new Route("^/plaintext$", _ => new HttpResponse(helloWorld, 200, "text/plain")),
        // Serialized per request straight into the connection's output buffer (TechEmpower's json test).
        new Route("^/json$", _ => new JsonResponse<Message>(new Message("Hello, World!"), BenchJsonContext.Default.Message, 200, "application/json")),
        redis is null ? new Route("^/park/$", Park) : new Route("^/park/$", _ => ParkOnKey(redis)),
        redis is null ? ReleaseRoute() : new Route("^/release/$", async Task<HttpResponse> (HttpRequest _) =>
            new HttpResponse((await redis.PublishAsync("bench", "released")).ToString(System.Globalization.CultureInfo.InvariantCulture), 200, "text/plain")),
        // A streamed upload: the body is hashed as it arrives, never buffered whole (tests measure the RSS).
        new Route("^/upload/$", Upload, "POST", "PUT") { StreamBody = true },
        new Route("^/stats/$", _ => new HttpResponse(
            $"parked={appRef!.ParkedRequestCount} connections={appRef.ConnectionCount} " +
            $"allocated={GC.GetTotalAllocatedBytes()} heap={GC.GetGCMemoryInfo().HeapSizeBytes} gen0={GC.CollectionCount(0)} gen2={GC.CollectionCount(2)}",
            200, "text/plain")),
        .. WebSocketEndpoints.Routes,
    ],
    new SnowOptions { Loops = loops, Poller = poller, AddServerHeader = true });
if (maxBody is long bodyLimit) app.Options.Limits.MaxRequestBodyBytes = bodyLimit;

appRef = app;
var endpoints = new List<SnowEndpoint> { new(host, port) };
if (httpsPort is int tlsPort)
{
    if (certificatePath is null || keyPath is null) throw new ArgumentException("--https-port needs --cert and --key");
    endpoints.Add(new SnowEndpoint(host, tlsPort, new HttpsOptions { Certificate = TlsCertificate.FromFiles(certificatePath, keyPath), Engine = tlsEngine }));
}
app.Start(endpoints);
Console.WriteLine($"listening on {string.Join(" ", app.Endpoints.Select(e => e.Url))} poller={app.PollerName} loops={app.LoopCount}{(redis is null ? "" : " redis=" + redisAddress)}");
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);
await app.Completion;
redis?.Dispose();
return 0;

Route ReleaseRoute() => new("^/release/$", _ =>
        {
            int released = 0;
            while (parked.TryDequeue(out Future? future))
            {
                if (future.SetResult("released")) released++;
            }
            return new HttpResponse(released.ToString(System.Globalization.CultureInfo.InvariantCulture), 200, "text/plain");
        });

IEnumerable<Step> Park(HttpRequest request)
{
    var future = new Future(static (_, f) => new HttpResponse(f.GetResult<string>() ?? "", 200, "text/plain"));
    parked.Enqueue(future);
    yield return future;
}

static IEnumerable<Step> ParkOnKey(RedisFutures redis)
{
    yield return redis.Wait("bench", static (_, f) => new HttpResponse(f.Result ?? "", 200, "text/plain"));
}

static async Task<HttpResponse> Upload(HttpRequest request)
{
    using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
    byte[] buffer = new byte[64 * 1024];
    long total = 0;
    int read;
    while ((read = await request.ReadBodyAsync(buffer)) > 0)
    {
        hash.AppendData(buffer, 0, read);
        total += read;
    }
    return new HttpResponse($"{total} {Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant()}", 200, "text/plain");
}

void Shutdown(PosixSignalContext context)
{
    context.Cancel = true;
    _ = app.StopAsync();
}

namespace Snow.Native.BenchServer
{
    internal sealed record Message(string message);

    [JsonSerializable(typeof(Message))]
    internal sealed partial class BenchJsonContext : JsonSerializerContext;
}
