namespace Snow.Native;

/// <summary>
/// How a WebSocket accepted with <see cref="WebSocketRequests.AcceptWebSocket(HttpRequest, Func{WebSocketConnection, Task}, WebSocketOptions?)"/>
/// behaves. One instance may serve every connection of a route; do not change it once connections use it.
/// </summary>
public sealed class WebSocketOptions
{
    /// <summary>The largest message accepted, after reassembly of its fragments; a larger one closes the connection with 1009. 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How often an idle connection is pinged (keeps it alive through proxies and finds dead peers: one that sends
    /// nothing, not even the pong, for two intervals is closed). 30 s; <see cref="TimeSpan.Zero"/> turns it off.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the close handshake may take once a close frame is sent: then the connection is closed anyway. 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bytes queued for the client above which <see cref="WebSocketConnection.SendAsync(ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/>
    /// and <see cref="WebSocketConnection.WaitForDrainAsync"/> wait. A sender that ignores them may queue
    /// <see cref="WebSocketConnection.HardLimitFactor"/> times as much; past that the connection is closed. 64 KiB.
    /// </summary>
    public int MaxQueuedBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The subprotocols the server speaks, in its order of preference: the first one the client also offers is
    /// chosen (<see cref="WebSocketConnection.SubProtocol"/>). Empty: none is chosen, whatever the client offers.
    /// </summary>
    public IList<string> SubProtocols { get; } = new List<string>();

    private WebSocketSettings? _settings;

    internal WebSocketSettings Settings => _settings ??= Validate();

    private WebSocketSettings Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveInterval, TimeSpan.Zero, nameof(KeepAliveInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(CloseTimeout, TimeSpan.FromMilliseconds(1), nameof(CloseTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytes, 1, nameof(MaxQueuedBytes));
        return new WebSocketSettings(MaxMessageBytes, (long)KeepAliveInterval.TotalMilliseconds,
            (long)CloseTimeout.TotalMilliseconds, MaxQueuedBytes, SubProtocols.ToArray());
    }
}

/// <summary>The options as one connection reads them, fixed once the first connection uses them.</summary>
internal sealed record WebSocketSettings(int MaxMessageBytes, long KeepAliveMilliseconds, long CloseMilliseconds,
    int MaxQueuedBytes, string[] SubProtocols);
