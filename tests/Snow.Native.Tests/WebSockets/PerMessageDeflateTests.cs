using System.IO.Compression;
using System.Text;
using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native.Tests.WebSockets;

/// <summary>permessage-deflate (RFC 7692): the negotiation, compressed messages both ways, context takeover, the limit while inflating.</summary>
public sealed class PerMessageDeflateTests
{
    private static readonly WebSocketOptions Compressing = new() { EnableCompression = true };

    private static string? Negotiated(string offer, WebSocketOptions? options = null)
    {
        using var harness = new ProtocolHarness([("^/ws$", r => r.AcceptWebSocket(WsSession.Echo, options ?? Compressing))]);
        InMemoryTransport connection = harness.Connect();
        connection.Feed(Wire.Bytes(WsWire.Handshake(extraHeaders: $"Sec-WebSocket-Extensions: {offer}\r\n")));
        var response = Wire.Responses(connection.TakeSent()).First();
        Assert.That(response.Status, Is.EqualTo(101));
        return response.Headers.GetValueOrDefault("Sec-WebSocket-Extensions");
    }

    [TestCase("permessage-deflate", "permessage-deflate")]
    [TestCase("permessage-deflate; client_max_window_bits", "permessage-deflate")]
    [TestCase("permessage-deflate; client_max_window_bits=10", "permessage-deflate")]
    [TestCase("permessage-deflate; server_max_window_bits=15", "permessage-deflate; server_max_window_bits=15")]
    [TestCase("permessage-deflate; server_no_context_takeover; client_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover")]
    [TestCase("permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate")]
    [TestCase("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits", "permessage-deflate")]
    [TestCase("permessage-deflate; server_max_window_bits=10", null)]
    [TestCase("permessage-deflate; server_max_window_bits=16", null)]
    [TestCase("permessage-deflate; server_max_window_bits", null)]
    [TestCase("permessage-deflate; client_max_window_bits=7", null)]
    [TestCase("permessage-deflate; unknown_parameter", null)]
    [TestCase("permessage-deflate; client_no_context_takeover; client_no_context_takeover", null)]
    [TestCase("permessage-deflate; server_no_context_takeover=1", null)]
    public void TheFirstOfferTheServerCanHonourIsAccepted(string offer, string? expected) =>
        Assert.That(Negotiated(offer), Is.EqualTo(expected));

    [Test]
    public void NothingIsNegotiatedUnlessCompressionIsEnabled() =>
        Assert.That(Negotiated("permessage-deflate", new WebSocketOptions()), Is.Null);

    [Test]
    public void WithoutContextTakeoverTheServerSaysSo() =>
        Assert.That(Negotiated("permessage-deflate", new WebSocketOptions { EnableCompression = true, CompressionContextTakeover = false }),
            Is.EqualTo("permessage-deflate; server_no_context_takeover"));

    private static WsSession Session(string offer = "permessage-deflate", WebSocketOptions? options = null) =>
        new(r => r.AcceptWebSocket(WsSession.Echo, options ?? Compressing), $"Sec-WebSocket-Extensions: {offer}\r\n");

    [Test]
    public void TheRfcsCompressedHelloIsInflated()
    {
        using WsSession session = Session();
        session.Feed(WsWire.Frame(1, Convert.FromHexString("f248cdc9c90700"), rsv: 4)); // RFC 7692 section 7.2.3.1
        var echo = session.Frames().Single();
        Assert.That(echo.Text, Is.EqualTo("Hello"), "short messages go back uncompressed");
    }

    [Test]
    public void LargeMessagesGoBackCompressedAndInflateToTheSame()
    {
        using WsSession session = Session();
        string text = string.Concat(Enumerable.Range(0, 200).Select(i => $"line {i % 7} of a repetitive message; "));
        var client = new ClientCompressor();
        session.Feed(WsWire.Frame(1, client.Compress(Encoding.UTF8.GetBytes(text)), rsv: 4));
        session.Feed(WsWire.Frame(1, client.Compress(Encoding.UTF8.GetBytes(text)), rsv: 4)); // context taken over: far smaller
        byte[] sent = session.Connection.TakeSent();
        Assert.That(sent[0] & 0x40, Is.EqualTo(0x40), "RSV1: the reply is compressed");
        var frames = WsWire.Frames(sent.Select((b, i) => b).ToArray().Also(ClearRsv1));
        var inflater = new ClientInflater();
        Assert.That(frames.Select(f => Encoding.UTF8.GetString(inflater.Inflate(f.Payload))), Is.EqualTo(new[] { text, text }));
        Assert.That(frames[1].Payload.Length, Is.LessThan(frames[0].Payload.Length), "the server kept its context too");
        Assert.That(frames[0].Payload.Length, Is.LessThan(text.Length / 4));
    }

    [Test]
    public void AMessageThatInflatesPastTheLimitIsStoppedWith1009()
    {
        using WsSession session = Session(options: new WebSocketOptions { EnableCompression = true, MaxMessageBytes = 10_000 });
        byte[] bomb = new ClientCompressor().Compress(new byte[1_000_000]);
        Assert.That(bomb.Length, Is.LessThan(10_000), "small on the wire");
        session.Feed(WsWire.Frame(2, bomb, rsv: 4));
        Assert.That(session.Frames().Last().CloseCode, Is.EqualTo(1009));
        Assert.That(session.Harness.Context.Pool.InUse, Is.LessThanOrEqualTo(1), "the inflated bytes were not kept");
    }

    [Test]
    public void Rsv1OnAContinuationFails1002()
    {
        using WsSession session = Session();
        session.Feed(WsWire.Concat(WsWire.Frame(1, "a"u8, fin: false), WsWire.Frame(0, "b"u8, rsv: 4)));
        Assert.That(session.Frames().Last().CloseCode, Is.EqualTo(1002));
    }

    [Test]
    public void DataThatIsNotDeflateFails1007()
    {
        using WsSession session = Session();
        session.Feed(WsWire.Frame(2, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF], rsv: 4));
        Assert.That(session.Frames().Last().CloseCode, Is.EqualTo(1007));
    }

    [Test]
    public void AFragmentedCompressedMessageIsInflatedWhole()
    {
        using WsSession session = Session();
        byte[] compressed = new ClientCompressor().Compress(Encoding.UTF8.GetBytes("fragmented and compressed"));
        session.Feed(WsWire.Concat(WsWire.Frame(1, compressed.AsSpan(0, 3), fin: false, rsv: 4), WsWire.Frame(0, compressed.AsSpan(3))));
        Assert.That(session.Frames().Single().Text, Is.EqualTo("fragmented and compressed"));
    }

    private static void ClearRsv1(byte[] bytes)
    {
        // The test's frame reader refuses reserved bits: clear RSV1 on every frame head.
        int at = 0;
        while (at < bytes.Length)
        {
            bytes[at] &= 0xBF;
            long length = bytes[at + 1] & 0x7F;
            int head = 2;
            if (length == 126) { length = (bytes[at + 2] << 8) | bytes[at + 3]; head = 4; }
            else if (length == 127) { length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at + 2)); head = 10; }
            at += head + (int)length;
        }
    }

    /// <summary>A client's compressor with context takeover: sync flush, the tail removed.</summary>
    private sealed class ClientCompressor
    {
        private readonly MemoryStream _output = new();
        private readonly DeflateStream _deflate;

        public ClientCompressor() => _deflate = new DeflateStream(_output, CompressionLevel.Optimal, leaveOpen: true);

        public byte[] Compress(byte[] data)
        {
            _output.SetLength(0);
            _deflate.Write(data);
            _deflate.Flush();
            byte[] bytes = _output.ToArray();
            return bytes[..^4];
        }
    }

    /// <summary>A client's inflater with context takeover: the tail put back.</summary>
    private sealed class ClientInflater
    {
        private readonly MemoryStream _input = new();
        private readonly DeflateStream _inflate;

        public ClientInflater() => _inflate = new DeflateStream(_input, CompressionMode.Decompress);

        public byte[] Inflate(byte[] payload)
        {
            long position = _input.Position;
            _input.Write(payload);
            _input.Write([0, 0, 0xFF, 0xFF]);
            _input.Position = position;
            var output = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while ((read = _inflate.Read(buffer)) > 0) output.Write(buffer, 0, read);
            return output.ToArray();
        }
    }
}

internal static class ArrayExtensions
{
    public static T[] Also<T>(this T[] array, Action<T[]> action)
    {
        action(array);
        return array;
    }
}
