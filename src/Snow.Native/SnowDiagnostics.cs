namespace Snow.Native;

/// <summary>
/// The names under which Snow.Native reports its metrics and traces: listen with
/// <c>dotnet-counters monitor --counters Snow.Native</c>, OpenTelemetry's <c>AddMeter("Snow.Native")</c> and
/// <c>AddSource("Snow.Native")</c>, or a <see cref="System.Diagnostics.Metrics.MeterListener"/> and an
/// <see cref="System.Diagnostics.ActivityListener"/>. Nothing is measured and no activity is created while
/// nobody listens.
/// </summary>
public static class SnowDiagnostics
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of every <see cref="SnowApp"/> (one per running app).</summary>
    public const string MeterName = "Snow.Native";

    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> of the per-request activities.</summary>
    public const string ActivitySourceName = "Snow.Native";

    /// <summary>The operation name of a request's activity (its display name is the method and the route pattern).</summary>
    public const string RequestActivityName = "Snow.Native.HttpRequest";
}
