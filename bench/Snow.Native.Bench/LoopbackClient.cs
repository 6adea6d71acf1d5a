using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;

namespace Snow.Native.Bench;

/// <summary>
/// A load generator that allocates nothing per request, so that an allocation measured over the whole process is
/// the server's: N keep-alive connections, each with a preallocated request batch and receive buffer, driven by one
/// thread with blocking <see cref="Socket.Send(ReadOnlySpan{byte}, SocketFlags)"/> and
/// <see cref="Socket.Receive(Span{byte}, SocketFlags)"/> on spans.
/// </summary>
/// <remarks>
/// Only synchronous socket calls are made (Connect included) and no timeout is set: on Unix a socket that never saw
/// an asynchronous operation keeps its descriptor in blocking mode, and .NET then calls send/recv directly. Once a
/// descriptor is non-blocking, a sync call that has to wait allocates an operation object.
/// One round sends <c>depth</c> requests (in one send) on every connection first, then reads <c>depth</c> complete
/// responses from each connection in turn, so <c>connections * depth</c> requests are in flight together.
/// </remarks>
internal sealed class LoopbackClient : IDisposable
{
    private static ReadOnlySpan<byte> StatusOk => "HTTP/1.1 200 "u8;

    private static ReadOnlySpan<byte> ContentLengthField => "\r\nContent-Length: "u8;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    private readonly Socket[] _sockets;
    private readonly byte[] _requests;
    private readonly byte[][] _buffers;
    private readonly int _depth;
    private readonly int _expectedBodyLength;

    public LoopbackClient(IPEndPoint server, int connections, byte[] request, int depth, int expectedBodyLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        _depth = depth;
        _expectedBodyLength = expectedBodyLength;
        _requests = Payloads.Repeat(request, depth);
        _sockets = new Socket[connections];
        _buffers = new byte[connections][];
        try
        {
            for (int i = 0; i < connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                _sockets[i] = socket;
                socket.Connect(server);
                _buffers[i] = new byte[Math.Max(16 * 1024, depth * 512)];
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Connections => _sockets.Length;

    public int RequestsPerRound => _sockets.Length * _depth;

    /// <summary>Sends one batch on every connection, then reads every response; returns the responses read.</summary>
    public int RoundTrip()
    {
        Socket[] sockets = _sockets;
        for (int i = 0; i < sockets.Length; i++) SendAll(sockets[i], _requests);
        int responses = 0;
        for (int i = 0; i < sockets.Length; i++) responses += ReadResponses(sockets[i], _buffers[i]);
        return responses;
    }

    /// <summary>Runs <paramref name="rounds"/> rounds; returns the responses read.</summary>
    public int Run(int rounds)
    {
        int responses = 0;
        for (int r = 0; r < rounds; r++) responses += RoundTrip();
        return responses;
    }

    public void Dispose()
    {
        foreach (Socket? socket in _sockets) socket?.Dispose();
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = socket.Send(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    private int ReadResponses(Socket socket, byte[] buffer)
    {
        int start = 0;
        int filled = 0;
        int done = 0;
        while (done < _depth)
        {
            int length = CompleteResponseLength(buffer.AsSpan(start, filled - start));
            if (length > 0)
            {
                start += length;
                done++;
                continue;
            }
            if (filled == buffer.Length)
            {
                if (start == 0) throw new InvalidOperationException("A response does not fit the client's buffer.");
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
                start = 0;
            }
            int read = socket.Receive(buffer.AsSpan(filled), SocketFlags.None);
            if (read == 0) throw new InvalidOperationException("The server closed the connection.");
            filled += read;
        }
        if (start != filled) throw new InvalidOperationException("The server sent more than the responses asked for.");
        return done;
    }

    /// <summary>The length of the complete 200 response at the start of <paramref name="data"/>, or 0 if it is still incomplete.</summary>
    private int CompleteResponseLength(ReadOnlySpan<byte> data)
    {
        int headEnd = data.IndexOf(EndOfHead);
        if (headEnd < 0) return 0;
        ReadOnlySpan<byte> head = data[..(headEnd + 2)];
        if (!head.StartsWith(StatusOk)) throw new InvalidOperationException("The server answered with a status other than 200: " + System.Text.Encoding.ASCII.GetString(head));
        int field = head.IndexOf(ContentLengthField);
        if (field < 0 || !Utf8Parser.TryParse(head[(field + ContentLengthField.Length)..], out int contentLength, out _))
        {
            throw new InvalidOperationException("The response has no Content-Length.");
        }
        if (contentLength != _expectedBodyLength) throw new InvalidOperationException($"Unexpected body length {contentLength}.");
        int total = headEnd + EndOfHead.Length + contentLength;
        return data.Length >= total ? total : 0;
    }
}
