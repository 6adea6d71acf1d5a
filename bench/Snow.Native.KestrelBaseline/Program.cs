using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Snow.Native.KestrelBaseline;

// The baseline a user would pick instead of Snow.Native: an ASP.NET Core minimal app tuned the way the
// TechEmpower entries are (no console logging on the hot path, no Server header, no HTTPS, no limits in the way).
ServerAddress options;
try
{
    options = ServerAddress.Parse(args);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("usage: Snow.Native.KestrelBaseline [--host 127.0.0.1] [--port 8080] [--https-port P --cert PEM --key PEM]");
    return 2;
}

// No args to the builder: its command-line configuration would read --host/--port as unrelated settings.
WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddSimpleConsole();
builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);

builder.WebHost.UseKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxConcurrentConnections = null;
    kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    if (IPAddress.TryParse(options.Host, out IPAddress? address))
    {
        kestrel.Listen(address, options.Port, listen => listen.Protocols = HttpProtocols.Http1);
        if (options.HttpsPort is int httpsPort)
        {
            var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(options.Certificate!, options.Key);
            kestrel.Listen(address, httpsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseHttps(certificate);
            });
        }
    }
    else
    {
        kestrel.ListenLocalhost(options.Port, listen => listen.Protocols = HttpProtocols.Http1);
    }
});

WebApplication app = builder.Build();

byte[] helloWorld = "Hello, World!"u8.ToArray();
byte[] released = "released"u8.ToArray();

// Every endpoint is a plain RequestDelegate: no parameter binding to generate, so the app stays AOT-ready
// without the request delegate generator, and the hot path is the shortest minimal APIs offer.
var parked = new ParkedRequests();

app.MapGet("/plaintext", context => WriteText(context.Response, helloWorld));

// Serialized per request (as the TechEmpower rules ask) into bytes first, so Content-Length is known and the
// response is not chunked.
app.MapGet("/json", context =>
{
    byte[] body = JsonSerializer.SerializeToUtf8Bytes(new JsonMessage("Hello, World!"), BaselineJsonContext.Default.JsonMessage);
    HttpResponse response = context.Response;
    response.StatusCode = StatusCodes.Status200OK;
    response.ContentType = "application/json";
    response.ContentLength = body.Length;
    return response.Body.WriteAsync(body, 0, body.Length);
});

// Any method, and anything under /park/, the way Snow's prefix routes match.
app.Map("/park/{**rest}", async context =>
{
    bool wasReleased = await parked.WaitForRelease(context.RequestAborted);
    if (wasReleased) await WriteText(context.Response, released);
});

app.Map("/release/{**rest}", context =>
{
    int count = parked.ReleaseAll();
    return WriteText(context.Response, Encoding.ASCII.GetBytes(count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
});

WebSocketEndpoints.Map(app);

await app.StartAsync();
Console.WriteLine($"listening on http://{options.Host}:{options.Port}");
await app.WaitForShutdownAsync();
return 0;

// Content-Length set up front so Kestrel answers in one write instead of chunking.
static Task WriteText(HttpResponse response, byte[] body)
{
    response.StatusCode = StatusCodes.Status200OK;
    response.ContentType = "text/plain";
    response.ContentLength = body.Length;
    return response.Body.WriteAsync(body, 0, body.Length);
}

namespace Snow.Native.KestrelBaseline
{
    public sealed record JsonMessage(string Message);

    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(JsonMessage))]
    internal sealed partial class BaselineJsonContext : JsonSerializerContext;

    internal sealed record ServerAddress(string Host, int Port)
    {
        /// <summary>Also serve HTTPS here, with the PEM certificate and key (the TLS benchmarks).</summary>
        public int? HttpsPort { get; init; }

        public string? Certificate { get; init; }

        public string? Key { get; init; }

        public static ServerAddress Parse(string[] args)
        {
            string host = "127.0.0.1";
            int port = 8080;
            int? httpsPort = null;
            string? certificate = null, key = null;
            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--host":
                        host = value;
                        break;
                    case "--port":
                        if (!int.TryParse(value, out port) || port is < 1 or > 65535) throw new ArgumentException($"bad port: {value}");
                        break;
                    case "--https-port":
                        httpsPort = int.TryParse(value, out int tls) && tls is >= 1 and <= 65535 ? tls : throw new ArgumentException($"bad port: {value}");
                        break;
                    case "--cert":
                        certificate = value;
                        break;
                    case "--key":
                        key = value;
                        break;
                    default:
                        throw new ArgumentException($"unknown option: {args[i]}");
                }
                i++;
            }
            if (httpsPort is not null && (certificate is null || key is null)) throw new ArgumentException("--https-port needs --cert and --key");
            return new ServerAddress(host, port) { HttpsPort = httpsPort, Certificate = certificate, Key = key };
        }
    }
}
