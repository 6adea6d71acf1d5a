using Microsoft.Extensions.Logging;
using Snow.Native.Diagnostics;
using Snow.Native.Execution;
using Snow.Native.Http;
using Snow.Native.Loop;

namespace Snow.Native.Http1;

/// <summary>
/// What the HTTP/1.1 connections of one loop share: settings in loop milliseconds, the executions, the Date
/// header, a pool of request objects (a connection holds one only while a request is in progress, so an idle
/// connection holds none), and the loop's budget for buffered request bodies. Loop thread only.
/// </summary>
internal sealed class Http1Context
{
    private readonly Stack<HttpRequest> _requests = new();
    private long _bufferedBodyBytes;

    public Http1Context(SnowOptions options, LoopExecutions execution, ILogger logger, EventLoop loop, ServerTelemetry? telemetry = null)
    {
        Telemetry = telemetry ?? ServerTelemetry.Detached;
        Options = options;
        Execution = execution;
        Logger = logger;
        Loop = loop;
        Date = new DateHeader(loop);
        Limits = options.Limits;
        RequestHeadersMilliseconds = Milliseconds(options.RequestHeadersTimeout);
        KeepAliveMilliseconds = Milliseconds(options.KeepAliveTimeout);
        BodyIdleMilliseconds = Milliseconds(options.RequestBodyIdleTimeout);
        LingerMilliseconds = Milliseconds(options.LingerTimeout);
        MinBodyRate = options.MinRequestBodyDataRate;
        MaxHeadBuffer = options.Limits.MaxRequestLineBytes + options.Limits.MaxRequestHeadersTotalBytes + 4096;
    }

    public SnowOptions Options { get; }

    public HttpLimits Limits { get; }

    public LoopExecutions Execution { get; }

    public ILogger Logger { get; }

    /// <summary>The server's metrics and traces (free while nobody listens).</summary>
    public ServerTelemetry Telemetry { get; }

    public EventLoop Loop { get; }

    public DateHeader Date { get; }

    /// <summary>The loop's JSON writers, for <see cref="JsonResponse"/>s; made on first use, so that an app that sends no JSON does not load the serializer.</summary>
    public JsonOutput Json => _json ??= new JsonOutput();

    private JsonOutput? _json;

    public long RequestHeadersMilliseconds { get; }

    public long KeepAliveMilliseconds { get; }

    public long BodyIdleMilliseconds { get; }

    public long LingerMilliseconds { get; }

    public MinDataRate? MinBodyRate { get; }

    /// <summary>The largest read buffer a request head may need: both head limits plus room for the next read.</summary>
    public int MaxHeadBuffer { get; }

    /// <summary>True once the server is stopping: every response then closes its connection.</summary>
    public bool Draining { get; set; }

    /// <summary>Bytes of read buffer held beyond the standard size for request bodies being buffered now.</summary>
    public long BufferedBodyBytes => _bufferedBodyBytes;

    public HttpRequest RentRequest() => _requests.Count > 0 ? _requests.Pop() : new HttpRequest();

    public void ReturnRequest(HttpRequest request)
    {
        request.Reset();
        if (_requests.Count < 1024) _requests.Push(request);
    }

    /// <summary>Takes <paramref name="bytes"/> from the loop's budget for buffered bodies; false when that would exceed it.</summary>
    public bool TryChargeBody(long bytes)
    {
        if (_bufferedBodyBytes + bytes > Options.MaxBufferedRequestBodyBytesPerLoop) return false;
        _bufferedBodyBytes += bytes;
        return true;
    }

    public void ReleaseBody(long bytes) => _bufferedBodyBytes -= bytes;

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;
}
