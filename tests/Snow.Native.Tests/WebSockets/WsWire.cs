using System.Buffers.Binary;
using System.Text;
using Snow.Native.Tests.Protocol;
using Snow.Native.Transport;

namespace Snow.Native.Tests.WebSockets;

/// <summary>A WebSocket client's side of the wire, written by hand for tests: masked frames out, server frames in.</summary>
internal static class WsWire
{
    public const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";   // RFC 6455 section 1.3
    public const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    public static string Handshake(string path = "/ws", string? extraHeaders = null) =>
        $"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {SampleKey}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";

    /// <summary>A client frame: masked unless told otherwise, with the given first-byte bits.</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsv = 0, uint key = 0x1A2B3C4D)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        if (payload.Length < 126) frame.Add((byte)(maskBit | payload.Length));
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add((byte)(maskBit | 126));
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            for (int i = 7; i >= 0; i--) frame.Add((byte)((long)payload.Length >> (i * 8)));
        }
        Span<byte> keyBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(keyBytes, key);
        if (masked) frame.AddRange(keyBytes.ToArray());
        for (int i = 0; i < payload.Length; i++) frame.Add(masked ? (byte)(payload[i] ^ keyBytes[i & 3]) : payload[i]);
        return frame.ToArray();
    }

    public static byte[] Text(string text, bool fin = true) => Frame(1, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Binary(byte[] data, bool fin = true) => Frame(2, data, fin);

    public static byte[] Continuation(string text, bool fin = true) => Frame(0, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Ping(string payload = "") => Frame(9, Encoding.UTF8.GetBytes(payload));

    public static byte[] Close(int? code = 1000, string reason = "")
    {
        if (code is null) return Frame(8, []);
        var payload = new byte[2 + Encoding.UTF8.GetByteCount(reason)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code.Value);
        Encoding.UTF8.GetBytes(reason, payload.AsSpan(2));
        return Frame(8, payload);
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public record ServerFrame(bool Fin, int Opcode, byte[] Payload)
    {
        public string Text => Encoding.UTF8.GetString(Payload);

        public int CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : 1005;

        public string CloseReason => Payload.Length > 2 ? Encoding.UTF8.GetString(Payload.AsSpan(2)) : "";

        public override string ToString() => Opcode == 8 ? $"close {CloseCode} {CloseReason}" : $"op{Opcode} fin={Fin} '{Text}'";
    }

    /// <summary>Parses server frames (which must be unmasked, without reserved bits).</summary>
    public static List<ServerFrame> Frames(byte[] bytes)
    {
        var frames = new List<ServerFrame>();
        int at = 0;
        while (at < bytes.Length)
        {
            byte first = bytes[at];
            byte second = bytes[at + 1];
            if ((second & 0x80) != 0) throw new FormatException("a server frame is masked");
            if ((first & 0x70) != 0) throw new FormatException("a server frame has reserved bits");
            long length = second & 0x7F;
            at += 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at));
                at += 2;
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at));
                at += 8;
            }
            frames.Add(new ServerFrame((first & 0x80) != 0, first & 0x0F, bytes.AsSpan(at, (int)length).ToArray()));
            at += (int)length;
        }
        return frames;
    }
}

/// <summary>A WebSocket over the in-memory transport, after its handshake, on the protocol harness.</summary>
internal sealed class WsSession : IDisposable
{
    public WsSession(Func<HttpRequest, HttpResponseBase> accept, string? extraHeaders = null)
    {
        Harness = new ProtocolHarness([("^/ws$", accept)]);
        Connection = Harness.Connect();
        Connection.Feed(Wire.Bytes(WsWire.Handshake(extraHeaders: extraHeaders)));
        byte[] sent = Connection.TakeSent();
        string text = Wire.Text(sent);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Head = text[..(end + 4)];
        Settle();
        Leftover = sent[(end + 4)..];
    }

    public ProtocolHarness Harness { get; }

    public InMemoryTransport Connection { get; }

    public string Head { get; }

    /// <summary>Server bytes that came right behind the 101 (before <see cref="Settle"/> ran the session).</summary>
    public byte[] Leftover { get; }

    /// <summary>Runs posted work (the session's continuations) until none is left.</summary>
    public void Settle()
    {
        for (int i = 0; i < 20; i++) Harness.RunPending();
    }

    public void Feed(byte[] bytes)
    {
        Connection.Feed(bytes);
        Settle();
    }

    /// <summary>Feeds <paramref name="bytes"/> in pieces cut at <paramref name="cuts"/>, settling after each.</summary>
    public void FeedSplit(byte[] bytes, params int[] cuts)
    {
        int at = 0;
        foreach (int cut in cuts.Append(bytes.Length))
        {
            if (cut <= at) continue;
            Connection.Feed(bytes.AsSpan(at, cut - at));
            Settle();
            at = cut;
        }
    }

    public List<WsWire.ServerFrame> Frames()
    {
        Settle();
        return WsWire.Frames(Connection.TakeSent());
    }

    public void Dispose() => Harness.Dispose();

    /// <summary>The echo session: every message back as the same kind, until the close.</summary>
    public static async Task Echo(WebSocketConnection ws)
    {
        while (true)
        {
            WebSocketMessage message = await ws.ReceiveAsync();
            if (message.IsClose) return;
            await ws.SendAsync(message.Data, message.Kind);
        }
    }
}
