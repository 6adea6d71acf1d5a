using System.Net.WebSockets;
using System.Text;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Tls;

namespace Snow.Native.Tests.WebSockets;

/// <summary>wss://: the same WebSocket protocol over the TLS transport, with .NET's ClientWebSocket, once per poller.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
public sealed class SecureWebSocketTests(PollerKind poller)
{
    [Test]
    public async Task AnEchoOverWssWithCompressionAndTheCloseHandshake()
    {
        var options = new WebSocketOptions { EnableCompression = true };
        using var server = new HttpsServer([("^/ws$", r => r.AcceptWebSocket(WsSession.Echo, options))], poller, TlsEngine.Auto);
        using var client = new ClientWebSocket();
        client.Options.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TestCertificates.Instance.Trusts(certificate, errors);
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client.ConnectAsync(new Uri($"wss://localhost:{server.Port}/ws"), timeout.Token);
        foreach (int size in new[] { 5, 70_000, 300_000 })
        {
            byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("secure and compressed ", size / 22 + 1)))[..size];
            await client.SendAsync(data, WebSocketMessageType.Text, true, timeout.Token);
            var received = new MemoryStream();
            var buffer = new byte[16384];
            WebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer, timeout.Token);
                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            Assert.That(received.ToArray(), Is.EqualTo(data), $"{size} bytes");
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        Assert.That(client.CloseStatus, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
        Assert.That(server.HoldsNothing(), Is.True, "no connection or buffer left");
    }
}
