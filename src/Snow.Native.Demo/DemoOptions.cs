using Snow.Native;

namespace Snow.Native.Demo
{
    /// <summary>The demo's command line.</summary>
    internal sealed record DemoOptions(string Host, int Port, PollerKind Poller, int Loops, bool Help)
    {
        public const string Usage =
            "usage: Snow.Native.Demo [--host 127.0.0.1] [--port 8012] [--poller epoll|kqueue|select] [--loops N]\n" +
            "                        [--https PORT [--cert FILE --key FILE | --cert FILE.pfx [--password P]]]\n" +
            "                        [--redis HOST:PORT]";

        /// <summary>Also serve the routes over HTTPS on this port.</summary>
        public int? HttpsPort { get; init; }

        /// <summary>The certificate (PEM, or PFX); without one the demo makes a self-signed certificate for localhost.</summary>
        public string? CertificatePath { get; init; }

        public string? KeyPath { get; init; }

        public string? Password { get; init; }

        /// <summary>HOST:PORT of a Redis shared by several instances: /req/ and /stop/ then go through keyed futures.</summary>
        public string? Redis { get; init; }

        public static DemoOptions Parse(string[] args)
        {
            var options = new DemoOptions("127.0.0.1", 8012, PollerKind.Auto, 0, false);
            for (int i = 0; i < args.Length; i++)
            {
                string arg = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
                options = arg switch
                {
                    "--host" => options with { Host = Value() },
                    "--port" => options with { Port = int.TryParse(Value(), out int port) && port is >= 0 and <= 65535 ? port : throw new ArgumentException("--port takes 0 to 65535.") },
                    "--poller" => options with { Poller = ParsePoller(Value()) },
                    "--https" => options with { HttpsPort = int.TryParse(Value(), out int https) && https is >= 0 and <= 65535 ? https : throw new ArgumentException("--https takes a port, 0 to 65535.") },
                    "--cert" => options with { CertificatePath = Value() },
                    "--key" => options with { KeyPath = Value() },
                    "--password" => options with { Password = Value() },
                    "--loops" => options with { Loops = int.TryParse(Value(), out int loops) && loops >= 1 ? loops : throw new ArgumentException("--loops takes a whole number of at least 1.") },
                    "--redis" => options with { Redis = ParseRedis(Value()) },
                    "-h" or "--help" => options with { Help = true },
                    _ => throw new ArgumentException($"Unknown option {arg}."),
                };
            }
            if (options.HttpsPort is null && (options.CertificatePath ?? options.KeyPath ?? options.Password) is not null)
            {
                throw new ArgumentException("--cert, --key and --password go with --https PORT.");
            }
            if (options.KeyPath is not null && options.CertificatePath is null) throw new ArgumentException("--key needs --cert.");
            return options;
        }

        // HOST:PORT of the Redis that the instances share; the connection is made (and retried) when the demo starts.
        private static string ParseRedis(string value)
        {
            int colon = value.LastIndexOf(':');
            bool valid = colon > 0 && int.TryParse(value.AsSpan(colon + 1), out int port) && port is >= 1 and <= 65535;
            return valid ? value : throw new ArgumentException($"--redis takes HOST:PORT, not '{value}'.");
        }

        // The poller's name as the command line spells it; whether this OS offers it is checked when the server starts.
        private static PollerKind ParsePoller(string name) => name.Trim().ToLowerInvariant() switch
        {
            "auto" => PollerKind.Auto,
            "epoll" => PollerKind.Epoll,
            "kqueue" => PollerKind.Kqueue,
            "select" => PollerKind.Select,
            _ => throw new ArgumentException($"--poller takes epoll, kqueue or select, not '{name}'."),
        };
    }
}
