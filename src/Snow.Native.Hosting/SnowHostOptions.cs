namespace Snow.Native;

/// <summary>
/// What <c>services.AddSnow(...)</c> runs: the routes, where to listen, and the server's <see cref="SnowOptions"/>.
/// Code sets it first (the AddSnow callback); then the configuration section (by default "Snow") overrides what it
/// names, so operators can change the port, limits and timeouts without a rebuild.
/// </summary>
public sealed class SnowHostOptions
{
    /// <summary>The address to listen on (configuration key <c>Host</c>): an IP address, <c>localhost</c>, a host name,
    /// or <c>*</c> / <c>0.0.0.0</c> for every interface. Default 127.0.0.1. Host and Port apply only while
    /// <see cref="SnowOptions.Endpoints"/> is empty: several endpoints, HTTPS among them, are set there
    /// (<c>Endpoints:0:Port</c>, <c>Endpoints:0:Https:Certificate:Path</c>, ...).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port (configuration key <c>Port</c>); 0 picks a free one (see <see cref="SnowHostedService.Url"/>). Default 8012.</summary>
    public int Port { get; set; } = 8012;

    /// <summary>The server's settings: limits, timeouts, loops, poller. Configuration keys are the property names
    /// (<c>Loops</c>, <c>Limits:MaxRequestBodyBytes</c>, <c>ShutdownTimeout</c>, ...), beside Host and Port.
    /// Left null, <see cref="SnowOptions.LoggerFactory"/> becomes the host's ILoggerFactory.</summary>
    public SnowOptions Server { get; } = new();

    /// <summary>The routes, tried in order.</summary>
    public IList<Route> Routes { get; } = new List<Route>();
}
