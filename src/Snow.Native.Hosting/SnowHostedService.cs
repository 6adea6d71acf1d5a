using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Snow.Native;

/// <summary>
/// The hosted service that <c>AddSnow</c> registers (resolve it to read <see cref="Url"/> or reach the
/// <see cref="App"/>). It starts the server when the host starts, and stops it when the host stops: gracefully,
/// within <see cref="SnowOptions.ShutdownTimeout"/>, and at once when the host's shutdown timeout runs out first.
/// If the server stops by itself (a handler called <see cref="SnowApp.Stop()"/>), it asks the host to stop too.
/// </summary>
public sealed class SnowHostedService : IHostedService
{
    private readonly IOptions<SnowHostOptions> _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly IHostApplicationLifetime? _lifetime;
    private volatile bool _hostStopping;

    /// <summary>Made by the container; <see cref="SnowServiceCollectionExtensions.AddSnow(Microsoft.Extensions.DependencyInjection.IServiceCollection, IEnumerable{Route}, string)"/> registers it.</summary>
    public SnowHostedService(IOptions<SnowHostOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _options = options;
        _loggerFactory = services.GetService(typeof(ILoggerFactory)) as ILoggerFactory;
        _lifetime = services.GetService(typeof(IHostApplicationLifetime)) as IHostApplicationLifetime;
    }

    /// <summary>The running server, once the host has started.</summary>
    public SnowApp? App { get; private set; }

    /// <summary>"http://127.0.0.1:8012/" once started (with the real port when configured with port 0).</summary>
    public string? Url => App?.Url;

    /// <summary>Where the server listens once started.</summary>
    public IPEndPoint? LocalEndPoint => App?.LocalEndPoint;

    /// <summary>Reads the options (bad configuration throws here, naming the key), then binds and starts serving.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (App is not null) throw new InvalidOperationException("The Snow.Native server was already started.");
        SnowHostOptions options = _options.Value;
        if (options.Routes.Count == 0)
        {
            throw new InvalidOperationException("AddSnow has no routes: add them with AddSnow(routes) or in its configure callback (options.Routes.Add(...)).");
        }
        options.Server.LoggerFactory ??= _loggerFactory;
        var app = new SnowApp(options.Routes, options.Server);
        // The configured endpoints (several, HTTPS among them) when there are any; else Host and Port.
        if (options.Server.Endpoints.Count > 0) app.Start();
        else app.Start(options.Host, options.Port);
        App = app;
        _ = app.Completion.ContinueWith(static (_, state) => ((SnowHostedService)state!).OnServerStopped(), this,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops gracefully: listeners close, idle connections close, requests in progress have up to
    /// <see cref="SnowOptions.ShutdownTimeout"/>; when <paramref name="cancellationToken"/> fires first (the host's
    /// shutdown timeout), what is left is closed at once.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _hostStopping = true;
        SnowApp? app = App;
        return app is null ? Task.CompletedTask : app.StopAsync(app.Options.ShutdownTimeout, cancellationToken);
    }

    private void OnServerStopped()
    {
        if (!_hostStopping) _lifetime?.StopApplication();
    }
}
