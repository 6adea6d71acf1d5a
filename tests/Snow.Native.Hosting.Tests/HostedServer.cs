using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Snow.Native.Polling;

namespace Snow.Native.Hosting.Tests;

/// <summary>The pollers this OS offers: every hosting test runs on each.</summary>
public static class AvailablePollers
{
    public static IEnumerable<string> Names => PollerFactory.Available.Select(PollerFactory.Name);
}

/// <summary>Builds a real Generic Host with AddSnow on 127.0.0.1 port 0, configured through in-memory configuration.</summary>
internal static class HostedServer
{
    public static HostApplicationBuilder Builder(string poller, IDictionary<string, string?>? settings = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true, // no appsettings.json, environment variables or console logger of the test runner
            EnvironmentName = "Testing",
        });
        var all = new Dictionary<string, string?> { ["Snow:Port"] = "0", ["Snow:Poller"] = poller, ["Snow:Loops"] = "1" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        builder.Configuration.AddInMemoryCollection(all);
        return builder;
    }

    public static SnowHostedService Snow(this IHost host) => host.Services.GetRequiredService<SnowHostedService>();

    /// <summary>One request over a new socket, answered with the whole response text (Connection: close).</summary>
    public static string Get(IHost host, string path)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.ReceiveTimeout = 10_000;
        socket.Connect(host.Snow().LocalEndPoint!);
        socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        return ReadToEnd(socket);
    }

    public static string ReadToEnd(Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = socket.Receive(buffer)) > 0) received.Write(buffer, 0, read);
        return Encoding.UTF8.GetString(received.ToArray());
    }

    public static string Body(string response) => response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];

    public static bool CanConnect(System.Net.IPEndPoint endPoint)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Collects what the host's logging receives.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, EventId EventId, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, logLevel, eventId, formatter(state, exception)));
    }
}
