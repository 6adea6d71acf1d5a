using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Snow.Native.Http1;
using Snow.Native.Loop;
using Snow.Native.Polling;
using Snow.Native.Server;
using Snow.Native.Transport;

namespace Snow.Native.Tests.Protocol;

/// <summary>
/// HTTP/1.1 without sockets: a loop driven by hand on the test's thread with a manual clock, and in-memory
/// transports that take bytes in any split. Timeouts are tested by moving the clock, not by waiting.
/// </summary>
internal sealed class ProtocolHarness : IDisposable
{
    public ProtocolHarness(IEnumerable<Route> routes, Action<SnowOptions>? configure = null)
    {
        Options = new SnowOptions();
        configure?.Invoke(Options);
        Loop = new EventLoop(new NullPoller(), "protocol-test", null, 16, () => Now);
        Loop.BindToCurrentThread();
        Context = new LoopContext(Loop, Options, new Router(routes), NullLogger.Instance, new ConnectionGate(null));
    }

    /// <summary>The loop clock, in milliseconds.</summary>
    public long Now { get; private set; } = 1_000_000;

    public SnowOptions Options { get; }

    public EventLoop Loop { get; }

    public LoopContext Context { get; }

    public InMemoryTransport Connect()
    {
        var transport = new InMemoryTransport(Context);
        Http1Connection.Start(Context.Http1, transport);
        return transport;
    }

    /// <summary>Moves the clock, then runs what the loop would: posted work and the connections' timers.</summary>
    public void Advance(TimeSpan by)
    {
        Now += (long)by.TotalMilliseconds;
        Loop.RunPending();
        Context.CheckTimers(Now);
        Loop.RunPending();
    }

    public void RunPending() => Loop.RunPending();

    /// <summary>Runs posted work (completions from other threads) until <paramref name="condition"/> holds, bounded.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan? within = null)
    {
        DateTime deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            Loop.RunPending();
            if (condition()) return true;
            Thread.Sleep(1);
        }
        Loop.RunPending();
        return condition();
    }

    public void Dispose() => Loop.Dispose();

    private sealed class NullPoller : IPoller
    {
        public string Name => "none";

        public PollerKind Kind => PollerKind.Auto;

        public bool ReportsHangUp => true;

        public void Register(int fd, PollInterest interest, long token)
        {
        }

        public void Modify(int fd, PollInterest interest, long token)
        {
        }

        public void Unregister(int fd)
        {
        }

        public int Wait(Span<PollEvent> events, int timeoutMilliseconds) => 0;

        public void Wake()
        {
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>Responses read from bytes: status, headers, and a Content-Length or chunked body.</summary>
internal static class Wire
{
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    public static List<(int Status, Dictionary<string, string> Headers, string Body)> Responses(byte[] bytes)
    {
        var responses = new List<(int, Dictionary<string, string>, string)>();
        string text = Text(bytes);
        int at = 0;
        while (at < text.Length)
        {
            int headEnd = text.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (headEnd < 0) throw new FormatException($"An incomplete response head: {text[at..]}");
            string[] lines = text[at..headEnd].Split("\r\n");
            int status = int.Parse(lines[0].Split(' ')[1]);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':');
                headers[line[..colon]] = line[(colon + 1)..].Trim();
            }
            at = headEnd + 4;
            string body = "";
            if (headers.TryGetValue("Content-Length", out string? length))
            {
                body = text.Substring(at, int.Parse(length));
                at += body.Length;
            }
            else if (headers.TryGetValue("Transfer-Encoding", out string? coding) && coding == "chunked")
            {
                var decoded = new StringBuilder();
                while (true)
                {
                    int lineEnd = text.IndexOf("\r\n", at, StringComparison.Ordinal);
                    int size = Convert.ToInt32(text[at..lineEnd], 16);
                    at = lineEnd + 2;
                    if (size == 0)
                    {
                        at += 2;
                        break;
                    }
                    decoded.Append(text, at, size);
                    at += size + 2;
                }
                body = decoded.ToString();
            }
            else if (status != 100 && status != 101 && status != 204 && status != 304)
            {
                body = text[at..];
                at = text.Length;
            }
            responses.Add((status, headers, body));
            if (status == 101) break; // what follows belongs to the new protocol
        }
        return responses;
    }
}
