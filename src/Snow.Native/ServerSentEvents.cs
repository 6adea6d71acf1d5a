using System.Text;

namespace Snow.Native;

/// <summary>
/// Server-sent events (the HTML standard's <c>text/event-stream</c>) on a <see cref="StreamingResponse"/>: make one
/// per request, return <see cref="Response"/> from the handler, then <see cref="Send"/> events from any thread
/// until <see cref="Complete"/> or the client leaves (<see cref="IsAborted"/>, <see cref="Aborted"/>). Browsers'
/// <c>EventSource</c> reconnects by itself and names the last id it saw: <see cref="LastEventId"/>.
/// </summary>
/// <remarks>
/// Back-pressure is the streamed response's: <see cref="SendAsync"/> waits while more than
/// <see cref="SnowOptions.MaxResponseBufferBytes"/> are queued for the client. A comment line goes out every
/// <c>heartbeat</c> (15 s by default) so that proxies keep an idle stream open and a gone client is noticed.
/// </remarks>
public sealed class ServerSentEvents : IDisposable
{
    /// <summary>The heartbeat when none is given.</summary>
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(15);

    private readonly ITimer? _heartbeat;

    /// <param name="request">The request being answered; its Last-Event-ID header is read now.</param>
    /// <param name="heartbeat">How often a comment keeps the stream alive; <see cref="TimeSpan.Zero"/> for none; 15 s when null.</param>
    /// <param name="timeProvider">The clock of the heartbeat (tests give a manual one); the system's when null.</param>
    public ServerSentEvents(HttpRequest request, TimeSpan? heartbeat = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        LastEventId = request.Headers["Last-Event-ID"];
        Response = new StreamingResponse(200, "text/event-stream; charset=utf-8");
        Response.Headers.Add("Cache-Control", "no-cache");
        Response.Headers.Add("X-Accel-Buffering", "no"); // nginx would otherwise hold events back
        TimeSpan interval = heartbeat ?? DefaultHeartbeat;
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero, nameof(heartbeat));
        if (interval > TimeSpan.Zero)
        {
            _heartbeat = (timeProvider ?? TimeProvider.System).CreateTimer(static state => ((ServerSentEvents)state!).Beat(), this, interval, interval);
        }
    }

    /// <summary>What the handler returns.</summary>
    public StreamingResponse Response { get; }

    /// <summary>The id of the last event the client saw before it reconnected (its Last-Event-ID header), or null.</summary>
    public string? LastEventId { get; }

    /// <summary>True once the client went away (or the server stopped) before <see cref="Complete"/>.</summary>
    public bool IsAborted => Response.IsAborted;

    /// <summary>Cancelled when the stream is aborted; see <see cref="IsAborted"/>.</summary>
    public CancellationToken Aborted => Response.Aborted;

    /// <summary>
    /// Sends one event: <paramref name="data"/> (each of its lines becomes a <c>data:</c> line, so multi-line data
    /// arrives as it was), with an optional event name, id and reconnection delay. Thread-safe. False once the
    /// client is gone.
    /// </summary>
    public bool Send(string data, string? eventName = null, string? id = null, TimeSpan? retry = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var text = new StringBuilder(data.Length + 32);
        if (eventName is not null) text.Append("event: ").Append(SingleLine(eventName, nameof(eventName))).Append('\n');
        if (id is not null)
        {
            if (id.Contains('\0')) throw new ArgumentException("An event id cannot contain NUL.", nameof(id));
            text.Append("id: ").Append(SingleLine(id, nameof(id))).Append('\n');
        }
        if (retry is TimeSpan delay)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(retry));
            text.Append("retry: ").Append((long)delay.TotalMilliseconds).Append('\n');
        }
        // Lines end at CRLF, CR or LF, as the client splits them; a trailing break is an empty last line.
        int start = 0;
        for (int i = 0; i <= data.Length; i++)
        {
            if (i < data.Length && data[i] != '\r' && data[i] != '\n') continue;
            text.Append("data: ").Append(data, start, i - start).Append('\n');
            if (i + 1 < data.Length && data[i] == '\r' && data[i + 1] == '\n') i++;
            start = i + 1;
        }
        text.Append('\n');
        return Response.Write(text.ToString());
    }

    /// <summary>Sends an event, then waits while the client is behind (see the remarks). False once the client is gone.</summary>
    public async ValueTask<bool> SendAsync(string data, string? eventName = null, string? id = null, TimeSpan? retry = null, CancellationToken cancellationToken = default)
    {
        if (!Send(data, eventName, id, retry)) return false;
        return await Response.WaitForDrainAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a comment line (ignored by clients): what the heartbeat sends. Thread-safe.</summary>
    public bool SendComment(string text = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        return Response.Write(":" + SingleLine(text, nameof(text)) + "\n\n");
    }

    /// <summary>Ends the stream (a browser's EventSource then reconnects, unless it is closed).</summary>
    public bool Complete()
    {
        _heartbeat?.Dispose();
        return Response.Complete();
    }

    /// <summary>Completes the stream (see <see cref="Complete"/>) and stops the heartbeat.</summary>
    public void Dispose() => Complete();

    private void Beat()
    {
        if (Response.IsAborted || Response.IsCompleted)
        {
            _heartbeat?.Dispose();
            return;
        }
        try
        {
            SendComment();
        }
        catch (InvalidOperationException)
        {
            // completed meanwhile
        }
    }

    private static string SingleLine(string value, string name)
    {
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0) throw new ArgumentException("A field cannot contain a line break.", name);
        return value;
    }
}
