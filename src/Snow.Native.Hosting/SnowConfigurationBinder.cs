using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Snow.Native;

/// <summary>
/// Binds the configuration section (by default "Snow") onto <see cref="SnowHostOptions"/>, key by key, without
/// reflection (trimming- and Native-AOT-safe). Keys are case-insensitive and named as the properties: Host, Port,
/// Endpoints (a list, or named entries, of Host, Port and Https: see SnowConfigurationBinder.Endpoints.cs),
/// Poller, Loops, Limits:{MaxRequestLineBytes, MaxRequestHeadersTotalBytes, MaxRequestHeaderCount,
/// MaxRequestBodyBytes, MaxChunkSizeLineBytes}, the timeouts as time spans ("00:00:30"), MinRequestBodyDataRate:
/// {BytesPerSecond, GracePeriod} or "off", MaxConnections (a number or "none"), and the rest of SnowOptions.
/// Every bad value and every unknown key (a typo would otherwise be ignored silently) is reported at once, each
/// with its full configuration path, in one <see cref="InvalidOperationException"/>.
/// </summary>
internal static partial class SnowConfigurationBinder
{
    private static readonly string[] Known =
    [
        "Host", "Port", "Endpoints", "Poller", "Loops", "Limits", "RequestHeadersTimeout", "KeepAliveTimeout", "RequestBodyIdleTimeout",
        "SendStallTimeout", "LingerTimeout", "ShutdownTimeout", "MinRequestBodyDataRate", "MaxBufferedRequestBodyBytesPerLoop",
        "MaxConnections", "MaxResponseBufferBytes", "AcceptBatch", "AcceptPauseOnFdExhaustion", "Backlog", "AddServerHeader",
    ];

    private static readonly string[] KnownLimits =
        ["MaxRequestLineBytes", "MaxRequestHeadersTotalBytes", "MaxRequestHeaderCount", "MaxRequestBodyBytes", "MaxChunkSizeLineBytes"];

    public static void Bind(IConfigurationSection section, SnowHostOptions options)
    {
        var errors = new List<string>();
        foreach (IConfigurationSection setting in section.GetChildren())
        {
            Try(errors, setting, () => BindSetting(setting, options, errors));
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(
                $"The Snow.Native configuration (section '{section.Path}') is invalid:{string.Concat(errors.Select(e => "\n  " + e))}");
        }
    }

    private static void BindSetting(IConfigurationSection setting, SnowHostOptions options, List<string> errors)
    {
        SnowOptions server = options.Server;
        switch (setting.Key.ToLowerInvariant())
        {
            case "host": options.Host = Text(setting); break;
            case "port": options.Port = Int(setting, 0, 65535); break;
            case "endpoints": BindEndpoints(setting, server.Endpoints, errors); break;
            case "poller": server.Poller = Poller(setting); break;
            case "loops": server.Loops = Int(setting, 0, 1024); break;
            case "limits": BindLimits(setting, server.Limits, errors); break;
            case "requestheaderstimeout": server.RequestHeadersTimeout = Duration(setting, allowZero: false); break;
            case "keepalivetimeout": server.KeepAliveTimeout = Duration(setting, allowZero: false); break;
            case "requestbodyidletimeout": server.RequestBodyIdleTimeout = Duration(setting, allowZero: false); break;
            case "sendstalltimeout": server.SendStallTimeout = Duration(setting, allowZero: false); break;
            case "lingertimeout": server.LingerTimeout = Duration(setting, allowZero: true); break;
            case "shutdowntimeout": server.ShutdownTimeout = Duration(setting, allowZero: true); break;
            case "acceptpauseonfdexhaustion": server.AcceptPauseOnFdExhaustion = Duration(setting, allowZero: false); break;
            case "minrequestbodydatarate": server.MinRequestBodyDataRate = DataRate(setting); break;
            case "maxbufferedrequestbodybytesperloop": server.MaxBufferedRequestBodyBytesPerLoop = Long(setting, 0); break;
            case "maxconnections": server.MaxConnections = IsNone(setting) ? null : Int(setting, 1, int.MaxValue); break;
            case "maxresponsebufferbytes": server.MaxResponseBufferBytes = Int(setting, 1, int.MaxValue); break;
            case "acceptbatch": server.AcceptBatch = Int(setting, 1, int.MaxValue); break;
            case "backlog": server.Backlog = Int(setting, 1, int.MaxValue); break;
            case "addserverheader": server.AddServerHeader = Bool(setting); break;
            default: throw Unknown(setting, Known);
        }
    }

    private static void BindLimits(IConfigurationSection section, HttpLimits limits, List<string> errors)
    {
        if (section.Value is not null) throw Bad(section, $"'{section.Value}' is not a section: set {string.Join(", ", KnownLimits)} under it");
        foreach (IConfigurationSection limit in section.GetChildren())
        {
            Try(errors, limit, () =>
            {
                switch (limit.Key.ToLowerInvariant())
                {
                    case "maxrequestlinebytes": limits.MaxRequestLineBytes = Int(limit, 16, int.MaxValue); break;
                    case "maxrequestheaderstotalbytes": limits.MaxRequestHeadersTotalBytes = Int(limit, 1, int.MaxValue); break;
                    case "maxrequestheadercount": limits.MaxRequestHeaderCount = Int(limit, 1, int.MaxValue); break;
                    case "maxrequestbodybytes": limits.MaxRequestBodyBytes = Long(limit, 0); break;
                    case "maxchunksizelinebytes": limits.MaxChunkSizeLineBytes = Int(limit, 1, int.MaxValue); break;
                    default: throw Unknown(limit, KnownLimits);
                }
            });
        }
    }

    private static MinDataRate? DataRate(IConfigurationSection section)
    {
        if (IsNone(section)) return null;
        if (section.Value is not null) throw Bad(section, $"'{section.Value}' is neither \"off\" nor a section with BytesPerSecond and GracePeriod");
        double rate = 240;
        TimeSpan grace = TimeSpan.FromSeconds(5);
        foreach (IConfigurationSection part in section.GetChildren())
        {
            switch (part.Key.ToLowerInvariant())
            {
                case "bytespersecond":
                    if (!double.TryParse(Text(part), NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || !(rate > 0) || double.IsInfinity(rate))
                    {
                        throw Bad(part, $"'{part.Value}' is not a positive number of bytes per second");
                    }
                    break;
                case "graceperiod":
                    grace = Duration(part, allowZero: false);
                    if (grace < TimeSpan.FromSeconds(1)) throw Bad(part, $"'{part.Value}' is under the least grace period, 00:00:01");
                    break;
                default: throw Unknown(part, ["BytesPerSecond", "GracePeriod"]);
            }
        }
        return new MinDataRate(rate, grace);
    }

    private static string Text(IConfigurationSection setting) =>
        setting.Value ?? throw Bad(setting, "needs a value, not a section");

    private static int Int(IConfigurationSection setting, int min, int max)
    {
        string text = Text(setting);
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw Bad(setting, $"'{text}' is not a whole number from {min} to {max}");
        }
        return value;
    }

    private static long Long(IConfigurationSection setting, long min)
    {
        string text = Text(setting);
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < min)
        {
            throw Bad(setting, $"'{text}' is not a whole number of at least {min}");
        }
        return value;
    }

    private static bool Bool(IConfigurationSection setting)
    {
        string text = Text(setting);
        return bool.TryParse(text, out bool value) ? value : throw Bad(setting, $"'{text}' is neither true nor false");
    }

    /// <summary>A time span as .NET writes it ("00:00:30", "1.00:00:00"); a bare number is refused because
    /// TimeSpan would read "30" as thirty days.</summary>
    private static TimeSpan Duration(IConfigurationSection setting, bool allowZero)
    {
        string text = Text(setting);
        if (!text.Contains(':') || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan value))
        {
            throw Bad(setting, $"'{text}' is not a time span such as 00:00:30 (hours:minutes:seconds)");
        }
        if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero))
        {
            throw Bad(setting, $"'{text}' must be {(allowZero ? "zero or more" : "more than zero")}");
        }
        return value;
    }

    private static PollerKind Poller(IConfigurationSection setting) => Text(setting).Trim().ToLowerInvariant() switch
    {
        "auto" or "" => PollerKind.Auto,
        "epoll" => PollerKind.Epoll,
        "kqueue" => PollerKind.Kqueue,
        "select" => PollerKind.Select,
        _ => throw Bad(setting, $"'{setting.Value}' is not a poller: auto, epoll, kqueue or select"),
    };

    private static bool IsNone(IConfigurationSection setting) =>
        setting.Value is { } text && (text.Trim().Length == 0 || text.Trim().ToLowerInvariant() is "none" or "off" or "null");

    private static void Try(List<string> errors, IConfigurationSection setting, Action bind)
    {
        try
        {
            bind();
        }
        catch (ArgumentException e)
        {
            errors.Add(e is ConfigurationValueException ? e.Message : $"{setting.Path}: {e.Message.Split('\n')[0].Trim()}");
        }
    }

    private static ConfigurationValueException Unknown(IConfigurationSection setting, string[] known) =>
        new($"{setting.Path} is not a Snow.Native setting; known here: {string.Join(", ", known)}.");

    private static ConfigurationValueException Bad(IConfigurationSection setting, string problem) => new($"{setting.Path}: {problem}.");

    private sealed class ConfigurationValueException(string message) : ArgumentException(message);
}
