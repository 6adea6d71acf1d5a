using System.Globalization;

namespace Snow.Native.ConnectionTest;

internal sealed record TestOptions(
    IReadOnlyList<Uri> Urls,
    IReadOnlyList<int> ServerProcessIds,
    int Connections,
    bool Park,
    TimeSpan Timeout,
    int ConnectConcurrency,
    int WarmupConnections,
    int WarmupRounds)
{
    /// <summary>The first server: the one the release goes to.</summary>
    public Uri Url => Urls[0];

    public const string Usage =
        "usage: Snow.Native.ConnectionTest --url http[s]://127.0.0.1:8080 --pid SERVER_PID [--connections 9000]\n" +
        "       [--no-park] [--timeout-seconds 120] [--connect-concurrency 64] [--warmup-connections 64]\n" +
        "       [--warmup-rounds 5]\n" +
        "       --url and --pid may repeat (instances of one app, e.g. sharing a Redis): the connections are spread over\n" +
        "       the urls in turn, the RSS is the sum over the pids, and the release goes to the first url.";

    /// <exception cref="ArgumentException">An option is unknown, missing or malformed.</exception>
    public static TestOptions Parse(string[] args)
    {
        var urls = new List<Uri>();
        var processIds = new List<int>();
        int connections = 9000;
        bool park = true;
        int timeoutSeconds = 120;
        int connectConcurrency = 64;
        int warmupConnections = 64;
        int warmupRounds = 5;
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            if (option == "--no-park")
            {
                park = false;
                continue;
            }
            string value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{option} needs a value");
            switch (option)
            {
                case "--url":
                    if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? url) || url.Scheme is not ("http" or "https")) throw new ArgumentException($"bad url: {value}");
                    urls.Add(url);
                    break;
                case "--pid": processIds.Add(PositiveInt(option, value)); break;
                case "--connections": connections = PositiveInt(option, value); break;
                case "--timeout-seconds": timeoutSeconds = PositiveInt(option, value); break;
                case "--connect-concurrency": connectConcurrency = PositiveInt(option, value); break;
                case "--warmup-connections": warmupConnections = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup-rounds": warmupRounds = PositiveInt(option, value); break;
                default: throw new ArgumentException($"unknown option: {option}");
            }
        }
        if (urls.Count == 0) throw new ArgumentException("--url is required");
        if (urls.Any(url => url.Scheme == "https") && park) throw new ArgumentException("https measures idle connections only: add --no-park");
        if (processIds.Count == 0) throw new ArgumentException("--pid is required (the process that holds the connections)");
        return new TestOptions(urls, processIds, connections, park, TimeSpan.FromSeconds(timeoutSeconds), connectConcurrency, warmupConnections, warmupRounds);
    }

    private static int PositiveInt(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number > 0
            ? number
            : throw new ArgumentException($"{option} needs a positive number, not {value}");
}
