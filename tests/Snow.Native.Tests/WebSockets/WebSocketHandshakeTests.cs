using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.WebSockets;

/// <summary>The opening handshake (RFC 6455 section 4.2) over the in-memory transport.</summary>
public sealed class WebSocketHandshakeTests
{
    private static (int Status, Dictionary<string, string> Headers) Answer(string request, WebSocketOptions? options = null)
    {
        using var harness = new ProtocolHarness([("^/ws$", r => r.AcceptWebSocket(WsSession.Echo, options))]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes(request));
        var response = Wire.Responses(connection.TakeSent()).First();
        return (response.Status, response.Headers);
    }

    private static string Request(string upgrade = "websocket", string connection = "Upgrade", string version = "13",
        string key = WsWire.SampleKey, string method = "GET", string? extra = null) =>
        $"{method} /ws HTTP/1.1\r\nHost: x\r\nUpgrade: {upgrade}\r\nConnection: {connection}\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n";

    [Test]
    public void AValidHandshakeGets101WithTheAcceptValueOfTheRfcExample()
    {
        var (status, headers) = Answer(Request());
        Assert.That(status, Is.EqualTo(101));
        Assert.That(headers["Upgrade"], Is.EqualTo("websocket"));
        Assert.That(headers["Connection"], Is.EqualTo("Upgrade"));
        Assert.That(headers["Sec-WebSocket-Accept"], Is.EqualTo(WsWire.SampleAccept));
        Assert.That(headers.ContainsKey("Sec-WebSocket-Protocol"), Is.False);
    }

    [Test]
    public void TokensAreFoundInListsAndWithoutRegardToCase()
    {
        Assert.That(Answer(Request(upgrade: "WebSocket", connection: "keep-alive, upgrade")).Status, Is.EqualTo(101));
    }

    [TestCase("8")]
    [TestCase("12")]
    [TestCase("14")]
    [TestCase("")]
    public void AnotherVersionGets426NamingVersion13(string version)
    {
        var (status, headers) = Answer(Request(version: version));
        Assert.That(status, Is.EqualTo(426));
        Assert.That(headers["Sec-WebSocket-Version"], Is.EqualTo("13"));
    }

    [TestCase("")]
    [TestCase("not base64 at all!")]
    [TestCase("dGhlIHNhbXBsZSBub25jZQ")]      // no padding: 22 characters
    [TestCase("dGhlIHNhbXBsZSBub25jZSE=")]    // 17 bytes
    [TestCase("AAAAAAAAAAAAAAAAAAAA")]        // 15 bytes
    public void ABadKeyGets400(string key)
    {
        Assert.That(Answer(Request(key: key)).Status, Is.EqualTo(400));
    }

    [Test]
    public void AMissingUpgradeTokenGets400() => Assert.That(Answer(Request(upgrade: "h2c")).Status, Is.EqualTo(400));

    [Test]
    public void AMissingConnectionTokenGets400() => Assert.That(Answer(Request(connection: "keep-alive")).Status, Is.EqualTo(400));

    [Test]
    public void AnotherMethodGets400() => Assert.That(Answer(Request(method: "POST")).Status, Is.EqualTo(400));

    [Test]
    public void AnHttp10HandshakeGets400()
    {
        Assert.That(Answer(Request().Replace("HTTP/1.1", "HTTP/1.0")).Status, Is.EqualTo(400));
    }

    [Test]
    public void TheServersFirstPreferenceAmongTheOfferedSubprotocolsIsChosen()
    {
        var options = new WebSocketOptions { SubProtocols = { "chat.v2", "chat.v1" } };
        var (status, headers) = Answer(Request(extra: "Sec-WebSocket-Protocol: chat.v1, chat.v2\r\n"), options);
        Assert.That(status, Is.EqualTo(101));
        Assert.That(headers["Sec-WebSocket-Protocol"], Is.EqualTo("chat.v2"));
    }

    [Test]
    public void NoSubprotocolIsChosenWhenNoneMatches()
    {
        var options = new WebSocketOptions { SubProtocols = { "chat.v2" } };
        var (status, headers) = Answer(Request(extra: "Sec-WebSocket-Protocol: CHAT.V2, other\r\n"), options);
        Assert.That(status, Is.EqualTo(101));
        Assert.That(headers.ContainsKey("Sec-WebSocket-Protocol"), Is.False, "subprotocol names are case-sensitive");
    }

    [Test]
    public void TheSessionSeesTheChosenSubprotocol()
    {
        string? seen = null;
        var options = new WebSocketOptions { SubProtocols = { "a" } };
        using var session = new WsSession(r => r.AcceptWebSocket(ws =>
        {
            seen = ws.SubProtocol;
            return Task.CompletedTask;
        }, options), "Sec-WebSocket-Protocol: a\r\n");
        Assert.That(seen, Is.EqualTo("a"));
    }

    [Test]
    public void IsWebSocketRequestTellsAnUpgradeFromAPlainRequest()
    {
        bool? plain = null, upgrade = null;
        using var harness = new ProtocolHarness([("^/p$", r => { plain = r.IsWebSocketRequest(); return new HttpResponse("p"); }),
            ("^/ws$", r => { upgrade = r.IsWebSocketRequest(); return new HttpResponse("u"); })]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes("GET /p HTTP/1.1\r\nHost: x\r\n\r\n" + Request()));
        connection.TakeSent();
        Assert.That((plain, upgrade), Is.EqualTo(((bool?)false, (bool?)true)));
    }

    [Test]
    public void TheHttpTimersAreGoneAfterTheUpgrade()
    {
        using var session = new WsSession(r => r.AcceptWebSocket(WsSession.Echo, new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero }));
        session.Harness.Advance(TimeSpan.FromSeconds(300));
        Assert.That(session.Connection.IsClosed, Is.False);
        session.Feed(WsWire.Text("still here"));
        Assert.That(session.Frames().Single().Text, Is.EqualTo("still here"));
    }
}
