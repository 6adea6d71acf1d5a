using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Snow.Native;

/// <summary>
/// <c>services.AddSnow(...)</c>: runs a <see cref="SnowApp"/> as a hosted service of the Generic Host. It starts with
/// the host, logs through the host's ILoggerFactory, takes its settings from the configuration section "Snow" (or
/// the one named), and stops gracefully with the host: requests in progress get up to
/// <see cref="SnowOptions.ShutdownTimeout"/>, cut short by the host's own shutdown timeout.
/// </summary>
public static class SnowServiceCollectionExtensions
{
    /// <summary>The configuration section read by default.</summary>
    public const string DefaultConfigurationSection = "Snow";

    /// <summary>Serves <paramref name="routes"/>; settings come from the configuration section <paramref name="configurationSection"/>.</summary>
    public static IServiceCollection AddSnow(this IServiceCollection services, IEnumerable<Route> routes, string configurationSection = DefaultConfigurationSection)
    {
        ArgumentNullException.ThrowIfNull(routes);
        Route[] list = routes.ToArray();
        return services.AddSnow((_, options) =>
        {
            foreach (Route route in list) options.Routes.Add(route);
        }, configurationSection);
    }

    /// <summary>Serves what <paramref name="configure"/> sets up (routes, host, port, server settings); then the
    /// configuration section <paramref name="configurationSection"/> overrides the settings it names.</summary>
    public static IServiceCollection AddSnow(this IServiceCollection services, Action<SnowHostOptions> configure, string configurationSection = DefaultConfigurationSection)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddSnow((_, options) => configure(options), configurationSection);
    }

    /// <summary>
    /// As <see cref="AddSnow(IServiceCollection, Action{SnowHostOptions}, string)"/>, with the container: handlers reach
    /// services by capturing what they need here, once, at start (a handler that uses none costs nothing per request).
    /// Scoped services need a scope the handler makes itself (<c>services.CreateScope()</c>).
    /// </summary>
    public static IServiceCollection AddSnow(this IServiceCollection services, Action<IServiceProvider, SnowHostOptions> configure, string configurationSection = DefaultConfigurationSection)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        ArgumentException.ThrowIfNullOrWhiteSpace(configurationSection);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(SnowHostedService)))
        {
            throw new InvalidOperationException("AddSnow was already called: one host runs one Snow.Native server.");
        }
        services.AddOptions();
        services.AddSingleton<IConfigureOptions<SnowHostOptions>>(provider => new ConfigureSnowHostOptions(provider, configure, configurationSection));
        services.AddSingleton<SnowHostedService>();
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<SnowHostedService>());
        return services;
    }

    /// <summary>The user's callback, then the configuration section on top of it.</summary>
    private sealed class ConfigureSnowHostOptions(IServiceProvider provider, Action<IServiceProvider, SnowHostOptions> configure, string sectionName)
        : IConfigureOptions<SnowHostOptions>
    {
        public void Configure(SnowHostOptions options)
        {
            configure(provider, options);
            if (provider.GetService<IConfiguration>() is IConfiguration configuration)
            {
                SnowConfigurationBinder.Bind(configuration.GetSection(sectionName), options);
            }
        }
    }
}
