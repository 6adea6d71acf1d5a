using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// A minimal WebSocket client for load: one socket, the opening handshake by hand, masked frames out and
/// unmasked frames in, with buffers allocated once. Not a general client: no fragments, no extensions.
/// </summary>
internal sealed class WebSocketClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private WebSocketClient(Socket socket)
    {
        _socket = socket;
    }

    public static async Task<WebSocketClient> ConnectAsync(IPEndPoint server, string hostHeader, string path, CancellationToken cancellation)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellation).ConfigureAwait(false);
            var client = new WebSocketClient(socket);
            byte[] handshake = Encoding.ASCII.GetBytes(
                $"GET {path} HTTP/1.1\r\nHost: {hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            await socket.SendAsync(handshake, SocketFlags.None, cancellation).ConfigureAwait(false);
            await client.ReadHandshakeAsync(cancellation).ConfigureAwait(false);
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects and upgrades with blocking calls only. A socket that never ran an async operation is never added to
    /// .NET's own socket engine (its epoll and its thread), so the frames the client's one readiness loop reads do not
    /// wake a second thread on the client's core for every message as well.
    /// </summary>
    public static WebSocketClient Connect(IPEndPoint server, string hostHeader, string path)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 30_000 };
        try
        {
            socket.Connect(server);
            var client = new WebSocketClient(socket);
            socket.Send(Encoding.ASCII.GetBytes(
                $"GET {path} HTTP/1.1\r\nHost: {hostHeader}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
            while (true)
            {
                int end = client._buffer.AsSpan(0, client._end).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    string head = Encoding.ASCII.GetString(client._buffer, 0, end);
                    if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) throw new IOException($"no 101: {head.Split('\r')[0]}");
                    client._start = end + 4;
                    return client;
                }
                int read = socket.Receive(client._buffer, client._end, client._buffer.Length - client._end, SocketFlags.None);
                if (read == 0) throw new IOException("the server closed the connection");
                client._end += read;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A masked final frame of <paramref name="opcode"/> (the key is fixed: load, not security).</summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload)
    {
        int head = payload.Length < 126 ? 2 : payload.Length <= ushort.MaxValue ? 4 : 10;
        var frame = new byte[head + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        if (head == 2) frame[1] = (byte)(0x80 | payload.Length);
        else if (head == 4)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
        }
        ReadOnlySpan<byte> key = [0x37, 0xFA, 0x21, 0x3D];
        key.CopyTo(frame.AsSpan(head));
        for (int i = 0; i < payload.Length; i++) frame[head + 4 + i] = (byte)(payload[i] ^ key[i & 3]);
        return frame;
    }

    public ValueTask<int> SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellation) =>
        _socket.SendAsync(frame, SocketFlags.None, cancellation);

    /// <summary>Reads one whole frame; its opcode and payload length (the payload is skipped).</summary>
    public async ValueTask<(int Opcode, int Length)> ReceiveFrameAsync(CancellationToken cancellation)
    {
        while (true)
        {
            if (TryTakeFrame(out int opcode, out int length)) return (opcode, length);
            await FillAsync(cancellation).ConfigureAwait(false);
        }
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>The descriptor, for the client's readiness loop.</summary>
    public int Descriptor => (int)_socket.Handle;

    /// <summary>Switches to non-blocking calls for <see cref="SendNow"/> and <see cref="ReceiveNow"/>; nothing async may be pending.</summary>
    public void MakeNonBlocking() => _socket.Blocking = false;

    /// <summary>Sends a small frame without blocking (a socket buffer takes it whole).</summary>
    public void SendNow(byte[] frame)
    {
        int sent = _socket.Send(frame, SocketFlags.None, out SocketError error);
        if (error != SocketError.Success || sent != frame.Length) throw new IOException($"a non-blocking send of {frame.Length} bytes: {error}, {sent} sent");
    }

    /// <summary>Reads what has arrived without blocking; then the number of whole frames taken (payloads skipped).</summary>
    public int ReceiveNow()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int read = _socket.Receive(_buffer.AsSpan(_end), SocketFlags.None, out SocketError error);
        if (error == SocketError.WouldBlock) return 0;
        if (error != SocketError.Success) throw new SocketException((int)error);
        if (read == 0) throw new IOException("the server closed the connection");
        _end += read;
        int frames = 0;
        while (TryTakeFrame(out _, out _)) frames++;
        return frames;
    }

    private bool TryTakeFrame(out int opcode, out int length)
    {
        opcode = length = 0;
        int available = _end - _start;
        if (available < 2) return false;
        ReadOnlySpan<byte> data = _buffer.AsSpan(_start, available);
        int head = 2;
        long payload = data[1] & 0x7F;
        if (payload == 126)
        {
            if (available < 4) return false;
            payload = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            head = 4;
        }
        else if (payload == 127)
        {
            if (available < 10) return false;
            payload = (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
            head = 10;
        }
        if (head + payload > _buffer.Length) throw new IOException($"a frame of {payload} bytes is more than this client reads");
        if (available < head + payload) return false;
        opcode = data[0] & 0x0F;
        length = (int)payload;
        _start += head + (int)payload;
        return true;
    }

    private async ValueTask FillAsync(CancellationToken cancellation)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellation).ConfigureAwait(false);
        if (read == 0) throw new IOException("the server closed the connection");
        _end += read;
    }

    private async Task ReadHandshakeAsync(CancellationToken cancellation)
    {
        while (true)
        {
            int end = _buffer.AsSpan(0, _end).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.ASCII.GetString(_buffer, 0, end);
                if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) throw new IOException($"no 101: {head.Split('\r')[0]}");
                _start = end + 4;
                return;
            }
            await FillAsync(cancellation).ConfigureAwait(false);
        }
    }
}
