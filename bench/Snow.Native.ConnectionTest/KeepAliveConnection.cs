using System.Net;
using System.Net.Sockets;

namespace Snow.Native.ConnectionTest;

/// <summary>One client connection that sends requests and reads whole responses, keeping any extra bytes.</summary>
internal sealed class KeepAliveConnection : IDisposable
{
    // Every response in this test is tiny; a bigger one grows the buffer up to the limit.
    private const int InitialBufferSize = 1024;
    private const int MaxResponseSize = 1 << 20;

    private readonly Socket _socket;
    private readonly System.Net.Security.SslStream? _tls;
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _buffered;

    private KeepAliveConnection(Socket socket, System.Net.Security.SslStream? tls)
    {
        _socket = socket;
        _tls = tls;
    }

    /// <summary>Connects; with <paramref name="tlsHost"/>, makes a TLS session too (any certificate is accepted:
    /// this measures servers, it does not check them).</summary>
    public static async Task<KeepAliveConnection> ConnectAsync(IPEndPoint server, CancellationToken cancellation, string? tlsHost = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellation).ConfigureAwait(false);
            if (tlsHost is null) return new KeepAliveConnection(socket, null);
            var tls = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: false));
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = tlsHost,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            }, cancellation).ConfigureAwait(false);
            return new KeepAliveConnection(socket, tls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task SendAsync(ReadOnlyMemory<byte> request, CancellationToken cancellation)
    {
        while (!request.IsEmpty)
        {
            if (_tls is not null)
            {
                await _tls.WriteAsync(request, cancellation).ConfigureAwait(false);
                return;
            }
            int sent = await _socket.SendAsync(request, SocketFlags.None, cancellation).ConfigureAwait(false);
            request = request[sent..];
        }
    }

    /// <summary>Reads one whole response; its body text when <paramref name="keepBody"/> is set.</summary>
    /// <exception cref="IOException">The server closed the connection before the response was complete.</exception>
    public async Task<(int Status, string? Body)> ReadResponseAsync(bool keepBody, CancellationToken cancellation)
    {
        while (true)
        {
            if (_buffered > 0 && HttpResponseParser.TryParse(_buffer.AsSpan(0, _buffered), out ParsedResponse response))
            {
                string? body = keepBody ? System.Text.Encoding.ASCII.GetString(_buffer, response.BodyStart, response.BodyLength) : null;
                _buffered -= response.TotalLength;
                Buffer.BlockCopy(_buffer, response.TotalLength, _buffer, 0, _buffered);
                return (response.Status, body);
            }
            if (_buffered == _buffer.Length)
            {
                if (_buffer.Length >= MaxResponseSize) throw new IOException("response larger than the test allows");
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            int received = _tls is not null
                ? await _tls.ReadAsync(_buffer.AsMemory(_buffered), cancellation).ConfigureAwait(false)
                : await _socket.ReceiveAsync(_buffer.AsMemory(_buffered), SocketFlags.None, cancellation).ConfigureAwait(false);
            if (received == 0) throw new IOException("the server closed the connection");
            _buffered += received;
        }
    }

    /// <summary>The descriptor, for a client-side readiness loop.</summary>
    public int Descriptor => (int)_socket.Handle;

    /// <summary>Switches to non-blocking reads for <see cref="TryReadAvailable"/>; no async read may be pending.</summary>
    public void MakeNonBlocking() => _socket.Blocking = false;

    /// <summary>
    /// Reads whatever has arrived without blocking. True with the response (or <paramref name="error"/>) once one is
    /// complete or the connection failed; false while more bytes are needed.
    /// </summary>
    public bool TryReadAvailable(out int status, out string? body, out Exception? error)
    {
        status = -1;
        body = null;
        error = null;
        try
        {
            while (true)
            {
                if (_buffered > 0 && HttpResponseParser.TryParse(_buffer.AsSpan(0, _buffered), out ParsedResponse response))
                {
                    status = response.Status;
                    body = System.Text.Encoding.ASCII.GetString(_buffer, response.BodyStart, response.BodyLength);
                    _buffered -= response.TotalLength;
                    Buffer.BlockCopy(_buffer, response.TotalLength, _buffer, 0, _buffered);
                    return true;
                }
                if (_buffered == _buffer.Length)
                {
                    if (_buffer.Length >= MaxResponseSize) throw new IOException("response larger than the test allows");
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
                int received = _socket.Receive(_buffer.AsSpan(_buffered), SocketFlags.None, out SocketError socketError);
                if (socketError == SocketError.WouldBlock) return false;
                if (socketError != SocketError.Success) throw new SocketException((int)socketError);
                if (received == 0) throw new IOException("the server closed the connection");
                _buffered += received;
            }
        }
        catch (Exception e) when (e is SocketException or IOException or FormatException)
        {
            error = e;
            return true;
        }
    }

    public void Dispose()
    {
        _tls?.Dispose();
        _socket.Dispose();
    }
}
