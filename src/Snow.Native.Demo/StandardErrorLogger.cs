using Microsoft.Extensions.Logging;

namespace Snow.Native.Demo;

/// <summary>Writes warnings and errors to standard error: enough for a demo, no logging framework needed.</summary>
internal sealed class StandardErrorLoggerFactory : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new StandardErrorLogger(categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class StandardErrorLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            string line = $"{DateTime.UtcNow:HH:mm:ss} {logLevel} {category}: {formatter(state, exception)}";
            if (exception is not null) line += Environment.NewLine + exception;
            Console.Error.WriteLine(line);
        }
    }
}
