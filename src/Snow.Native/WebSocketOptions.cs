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

    /// <summary>
    /// Accepts permessage-deflate (RFC 7692) when the client offers it. Off by default: a compressing connection
    /// holds zlib state (about 300 KB with context takeover) once it has exchanged a compressed message, and
    /// deflating costs more CPU than loopback bytes save; turn it on for large, repetitive messages over slow links.
    /// Messages under 64 bytes go uncompressed either way.
    /// </summary>
    public bool EnableCompression { get; set; }

    /// <summary>
    /// Whether the server's compressor keeps its window from message to message (better ratios; the state stays
    /// allocated). False announces server_no_context_takeover: each message is compressed afresh. True by default.
    /// </summary>
    public bool CompressionContextTakeover { get; set; } = true;

    /// <summary>The deflate level for sent messages. <see cref="System.IO.Compression.CompressionLevel.Fastest"/> by default.</summary>
    public System.IO.Compression.CompressionLevel CompressionLevel { get; set; } = System.IO.Compression.CompressionLevel.Fastest;

    private WebSocketSettings? _settings;

    internal WebSocketSettings Settings => _settings ??= Validate();

    private WebSocketSettings Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveInterval, TimeSpan.Zero, nameof(KeepAliveInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(CloseTimeout, TimeSpan.FromMilliseconds(1), nameof(CloseTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytes, 1, nameof(MaxQueuedBytes));
        return new WebSocketSettings(MaxMessageBytes, (long)KeepAliveInterval.TotalMilliseconds,
            (long)CloseTimeout.TotalMilliseconds, MaxQueuedBytes, SubProtocols.ToArray(), EnableCompression, CompressionContextTakeover,
            CompressionLevel);
    }
}

/// <summary>The options as one connection reads them, fixed once the first connection uses them.</summary>
internal sealed record WebSocketSettings(int MaxMessageBytes, long KeepAliveMilliseconds, long CloseMilliseconds,
    int MaxQueuedBytes, string[] SubProtocols, bool Compression, bool CompressionContextTakeover,
    System.IO.Compression.CompressionLevel CompressionLevel);
