using System.Net;
using System.Text.Json.Serialization;

namespace Snow.Native.Bench;

/// <summary>
/// A <see cref="SnowApp"/> on 127.0.0.1, port 0, one loop, serving "Hello, World!" two ways: from a response built
/// once (<see cref="CachedPath"/>) and from a response built per request (<see cref="FreshPath"/>).
/// </summary>
/// <remarks>
/// A cached <see cref="HttpResponse"/> can be shared by every request, connection and loop: the server only reads
/// it (ResponseWriter.Write reads status, content type, content, headers and cookies; Http1Connection.Respond reads
/// its headers only when it has some) and marks it read-only when first sent, after which it cannot change.
/// (A <see cref="StreamingResponse"/> is the exception: it answers one request.)
/// </remarks>
internal sealed class PlaintextServer : IDisposable
{
    public const string CachedPath = "/plaintext";
    public const string FreshPath = "/plaintext/fresh";
    public const string JsonPath = "/json";
    public const string JsonBytesPath = "/json/bytes";

    /// <summary>The body <see cref="JsonPath"/> answers: {"message":"Hello, World!"}.</summary>
    public const int JsonBodyLength = 27;

    public static readonly byte[] HelloWorld = "Hello, World!"u8.ToArray();

    /// <summary>Built once, returned for every request.</summary>
    public static readonly HttpResponse Cached = new(HelloWorld, 200, "text/plain");

    public PlaintextServer(PollerKind poller)
    {
        App = new SnowApp(
            [
                new Route("^/plaintext$", static _ => Cached),
                new Route("^/plaintext/fresh$", static _ => new HttpResponse(HelloWorld, 200, "text/plain")),
                new Route("^/json$", static _ => new JsonResponse<JsonMessage>(new JsonMessage("Hello, World!"), BenchJson.Default.JsonMessage, 200, "application/json")),
                // What /json did before JsonResponse: the serializer's array in an HttpResponse (for comparison).
                new Route("^/json/bytes$", static _ => new HttpResponse(
                    System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new JsonMessage("Hello, World!"), BenchJson.Default.JsonMessage), 200, "application/json")),
            ],
            new SnowOptions { Poller = poller, Loops = 1 });
        App.Start("127.0.0.1", 0);
    }

    public SnowApp App { get; }

    public IPEndPoint EndPoint => App.LocalEndPoint!;

    /// <summary>The TechEmpower plaintext request (wrk's headers) for <paramref name="path"/>.</summary>
    public static byte[] Request(string path) => Payloads.Ascii(
        $"GET {path} HTTP/1.1\r\n" +
        "Host: 127.0.0.1\r\n" +
        "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    public LoopbackClient Connect(string path, int connections, int depth) =>
        new(EndPoint, connections, Request(path), depth, path is JsonPath or JsonBytesPath ? JsonBodyLength : HelloWorld.Length);

    public void Dispose() => App.Dispose();
}

/// <summary>The TechEmpower json test's value: a new one per request, serialized by <see cref="JsonResponse{T}"/>.</summary>
internal sealed record JsonMessage(string message);

[JsonSerializable(typeof(JsonMessage))]
internal sealed partial class BenchJson : JsonSerializerContext;
