using System.Diagnostics;
using System.Diagnostics.Metrics;
using Snow.Native.Http;

namespace Snow.Native.Diagnostics;

/// <summary>
/// The per-request instruments of one server (named per OpenTelemetry's HTTP semantic conventions where they
/// exist) and the activity of each request. Nothing costs anything while nobody listens: the HTTP/1.1 connection
/// asks <see cref="IsListening"/> once per request (three field reads) and remembers on the request whether it
/// measured it, so a request that started unmeasured ends with one byte read. Thread-safe (the instruments are).
/// </summary>
internal sealed class ServerTelemetry : IDisposable
{
    /// <summary>The request activities of every server in the process.</summary>
    public static readonly ActivitySource Source = new(SnowDiagnostics.ActivitySourceName, Version);

    private static string Version => typeof(ServerTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    // OpenTelemetry's advice for http.server.request.duration, in seconds.
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private const byte Measured = 1;     // the request's duration is recorded at its end
    private const byte CountedActive = 2; // the request added 1 to active_requests

    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _refused;

    public ServerTelemetry()
    {
        Meter = new Meter(SnowDiagnostics.MeterName, Version);
        _duration = Meter.CreateHistogram("http.server.request.duration", "s", "Duration of HTTP server requests.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _active = Meter.CreateUpDownCounter<long>("http.server.active_requests", "{request}", "Number of active HTTP server requests.");
        _rejected = Meter.CreateCounter<long>("snow.server.rejected_requests", "{request}",
            "Requests the server refused before or instead of a handler (bad framing, limits, timeouts, body budget), by reason.");
        _refused = Meter.CreateCounter<long>("snow.server.refused_connections", "{connection}",
            "Connections closed on accept because the server was at MaxConnections.");
    }

    /// <summary>For contexts made without a server (tests of the protocol alone): one shared, never disposed.</summary>
    public static ServerTelemetry Detached => LazyInitializer.EnsureInitialized(ref s_detached, static () => new ServerTelemetry());

    private static ServerTelemetry? s_detached;

    /// <summary>This server's meter (named <see cref="SnowDiagnostics.MeterName"/>); observable instruments join it.</summary>
    public Meter Meter { get; }

    /// <summary>Whether a request starting now should be measured or traced.</summary>
    public bool IsListening => _duration.Enabled || _active.Enabled || Source.HasListeners();

    /// <summary>A request head was parsed and routed (<paramref name="route"/> null: answered by routing).</summary>
    public void RequestStarted(HttpRequest request, Route? route)
    {
        byte flags = 0;
        string method = MethodTag(request.Head.MethodKind);
        if (_active.Enabled)
        {
            _active.Add(1, new KeyValuePair<string, object?>("http.request.method", method), new KeyValuePair<string, object?>("url.scheme", "http"));
            flags |= CountedActive;
        }
        Activity? activity = Source.HasListeners() ? StartActivity(request, route, method) : null;
        if (_duration.Enabled || activity is not null)
        {
            request.TelemetryStart = Stopwatch.GetTimestamp();
            flags |= Measured;
        }
        request.TelemetryActivity = activity;
        request.TelemetryFlags = flags;
    }

    /// <summary>
    /// The request's response was written (<paramref name="status"/>), or the request ended without one
    /// (<paramref name="aborted"/>: the client left, or the server closed the connection).
    /// </summary>
    public void RequestEnded(HttpRequest request, int status, bool aborted)
    {
        byte flags = request.TelemetryFlags;
        request.TelemetryFlags = 0;
        string method = MethodTag(request.Head.MethodKind);
        if ((flags & CountedActive) != 0)
        {
            _active.Add(-1, new KeyValuePair<string, object?>("http.request.method", method), new KeyValuePair<string, object?>("url.scheme", "http"));
        }
        Route? route = request.MatchedRoute;
        string? errorType = aborted ? "aborted" : status >= 500 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        if ((flags & Measured) != 0 && _duration.Enabled)
        {
            var tags = new TagList
            {
                { "http.request.method", method },
                { "url.scheme", "http" },
                { "network.protocol.version", request.IsHttp11 ? "1.1" : "1.0" },
            };
            if (!aborted) tags.Add("http.response.status_code", StatusTag(status));
            if (route is not null) tags.Add("http.route", route.Pattern);
            if (errorType is not null) tags.Add("error.type", errorType);
            _duration.Record(Stopwatch.GetElapsedTime(request.TelemetryStart).TotalSeconds, tags);
        }
        if (request.TelemetryActivity is Activity activity)
        {
            request.TelemetryActivity = null;
            if (!aborted) activity.SetTag("http.response.status_code", StatusTag(status));
            if (errorType is not null)
            {
                activity.SetTag("error.type", errorType);
                activity.SetStatus(ActivityStatusCode.Error);
            }
            Activity? current = Activity.Current;
            activity.Stop();
            Activity.Current = current; // Stop makes the activity's parent current: the loop thread keeps its own
        }
    }

    /// <summary>The server refused a request with <paramref name="status"/>; <paramref name="reason"/> is a short tag.</summary>
    public void Rejected(int status, string reason)
    {
        if (!_rejected.Enabled) return;
        _rejected.Add(1, new KeyValuePair<string, object?>("snow.rejection.reason", reason), new KeyValuePair<string, object?>("http.response.status_code", StatusTag(status)));
    }

    /// <summary>A connection was closed on accept: the server is at its connection limit.</summary>
    public void ConnectionRefused()
    {
        if (_refused.Enabled) _refused.Add(1, new KeyValuePair<string, object?>("snow.refusal.reason", "max_connections"));
    }

    public void Dispose() => Meter.Dispose();

    /// <summary>The short tag for a rejection: by status, with the timeout's kind for a 408.</summary>
    public static string RejectionReason(int status) => status switch
    {
        400 => "bad_request",
        408 => "request_timeout",
        411 => "length_required",
        413 => "body_too_large",
        414 => "request_line_too_long",
        431 => "headers_too_large",
        501 => "unsupported_transfer_coding",
        503 => "body_budget_exceeded",
        505 => "unsupported_version",
        _ => "other",
    };

    private static Activity? StartActivity(HttpRequest request, Route? route, string method)
    {
        ActivityContext parent = default;
        RequestHeaders headers = request.Headers;
        string? traceParent = headers["traceparent"];
        if (traceParent is not null && !ActivityContext.TryParse(traceParent, headers["tracestate"], isRemote: true, out parent)) parent = default;
        Activity? activity = Source.CreateActivity(SnowDiagnostics.RequestActivityName, ActivityKind.Server, parent);
        if (activity is null) return null; // not sampled
        activity.DisplayName = route is null ? method : $"{method} {route.Pattern}";
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("http.request.method", method);
            activity.SetTag("url.scheme", "http");
            activity.SetTag("url.path", request.Path);
            if (request.QueryString.Length > 0) activity.SetTag("url.query", request.QueryString);
            activity.SetTag("network.protocol.version", request.IsHttp11 ? "1.1" : "1.0");
            if (route is not null) activity.SetTag("http.route", route.Pattern);
            if (headers["User-Agent"] is string agent) activity.SetTag("user_agent.original", agent);
        }
        Activity? previous = Activity.Current;
        activity.Start();
        Activity.Current = previous; // the handler runs inside it (Http1Connection sets it around the call), the loop does not
        return activity;
    }

    /// <summary>The method as OpenTelemetry tags it: the known ones as sent, any other as "_OTHER" (bounded cardinality).</summary>
    private static string MethodTag(HttpMethodKind kind) => HttpMethodNames.Of(kind) ?? "_OTHER";

    private static readonly object?[] BoxedStatus = new object?[600];

    /// <summary>The status code boxed once per code, not once per measurement.</summary>
    private static object StatusTag(int status)
    {
        if ((uint)status >= (uint)BoxedStatus.Length) return status;
        return BoxedStatus[status] ??= status;
    }
}
