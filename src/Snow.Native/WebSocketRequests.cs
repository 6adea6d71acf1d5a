using Snow.Native.Http1;
using Snow.Native.WebSockets;

namespace Snow.Native;

/// <summary>
/// Accepting a WebSocket from a route's handler: <c>return request.AcceptWebSocket(async ws => { ... });</c>.
/// The answer is the 101 (or, for a request that is not a valid handshake, its 400 or 426); after the 101 the
/// connection speaks RFC 6455 on its loop, and HTTP is over for it.
/// </summary>
public static class WebSocketRequests
{
    /// <summary>Whether the request asks to become a WebSocket (Upgrade: websocket), valid or not.</summary>
    public static bool IsWebSocketRequest(this HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WebSocketHandshake.IsUpgradeRequest(request);
    }

    /// <summary>
    /// Accepts the WebSocket and runs <paramref name="session"/> on the connection's loop (its awaits resume there)
    /// once the 101 is sent. When the session's task ends, the connection is closed (1000, or 1011 if it threw)
    /// unless it is closed already. The request must not be used once the handler has returned: take what the
    /// session needs from it before.
    /// </summary>
    public static HttpResponseBase AcceptWebSocket(this HttpRequest request, Func<WebSocketConnection, Task> session, WebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        return Accept(request, options, WebSocketHandlers.For(session, null, null, null));
    }

    /// <summary>
    /// Accepts the WebSocket in the callback style: <paramref name="onMessage"/> runs on the connection's loop for
    /// every message (its data is valid until it returns), <paramref name="onOpen"/> once the 101 is sent, and
    /// <paramref name="onClosed"/> once the connection is closed. The connection stays open until either side
    /// closes it.
    /// </summary>
    public static HttpResponseBase AcceptWebSocket(this HttpRequest request, Action<WebSocketConnection, WebSocketMessage> onMessage,
        Action<WebSocketConnection>? onOpen = null, Action<WebSocketConnection>? onClosed = null, WebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        return Accept(request, options, WebSocketHandlers.For(null, onMessage, onOpen, onClosed));
    }

    private static readonly WebSocketOptions Defaults = new();

    private static HttpResponseBase Accept(HttpRequest request, WebSocketOptions? options, WebSocketHandlers handlers)
    {
        ArgumentNullException.ThrowIfNull(request);
        WebSocketSettings settings = (options ?? Defaults).Settings;
        HttpResponse? rejection = WebSocketHandshake.Check(request, out string key);
        if (rejection is not null) return rejection;
        string? subProtocol = WebSocketHandshake.ChooseSubProtocol(request, settings.SubProtocols);
        DeflateAgreement? deflate = null;
        string? extensions = settings.Compression
            ? PerMessageDeflate.Negotiate(request.Headers.GetValues("Sec-WebSocket-Extensions"), settings.CompressionContextTakeover, out deflate)
            : null;
        var upgrade = new UpgradeResponse(transport => (Transport.IConnectionProtocol)new WebSocketConnection(transport, settings, handlers, subProtocol, deflate));
        upgrade.Headers.Add("Upgrade", "websocket");
        upgrade.Headers.Add("Connection", "Upgrade");
        upgrade.Headers.Add("Sec-WebSocket-Accept", WebSocketHandshake.AcceptValue(key));
        if (subProtocol is not null) upgrade.Headers.Add("Sec-WebSocket-Protocol", subProtocol);
        if (extensions is not null) upgrade.Headers.Add("Sec-WebSocket-Extensions", extensions);
        return upgrade;
    }
}

/// <summary>What the application gave for a connection: a session, or callbacks. Immutable, so connections accepted
/// with the same delegates (a route's handler, usually) share one.</summary>
internal sealed record WebSocketHandlers(
    Func<WebSocketConnection, Task>? Session,
    Action<WebSocketConnection, WebSocketMessage>? OnMessage,
    Action<WebSocketConnection>? OnOpen,
    Action<WebSocketConnection>? OnClosed)
{
    // The last handlers made on this thread (a loop's): the next accept with the same delegates takes them again
    // instead of holding its own record for the connection's life.
    [ThreadStatic]
    private static WebSocketHandlers? t_last;

    public static WebSocketHandlers For(Func<WebSocketConnection, Task>? session, Action<WebSocketConnection, WebSocketMessage>? onMessage,
        Action<WebSocketConnection>? onOpen, Action<WebSocketConnection>? onClosed)
    {
        if (t_last is { } last && Equals(last.Session, session) && Equals(last.OnMessage, onMessage) && Equals(last.OnOpen, onOpen) &&
            Equals(last.OnClosed, onClosed))
        {
            return last;
        }
        return t_last = new WebSocketHandlers(session, onMessage, onOpen, onClosed);
    }
}
