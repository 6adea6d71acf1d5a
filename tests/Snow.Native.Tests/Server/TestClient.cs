using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Snow.Native.Tests.Server;

/// <summary>A response as read off the wire.</summary>
internal sealed record WireResponse(string Version, int Status, string Reason, List<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public IEnumerable<string> HeaderValues(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public bool Closes => string.Equals(Header("Connection"), "close", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A raw TCP client for 127.0.0.1 that writes exact bytes and reads responses strictly.</summary>
internal sealed class TestClient : IDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public TestClient(IPEndPoint server, TimeSpan? timeout = null, int? receiveBufferSize = null)
    {
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is int size) Socket.ReceiveBufferSize = size; // before connecting: it sets the window
        Socket.ReceiveTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        Socket.SendTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        Socket.Connect(server);
    }

    public Socket Socket { get; }

    /// <summary>The TLS session once <see cref="StartTls"/> made one: sends and reads then go through it.</summary>
    public System.Net.Security.SslStream? Tls { get; private set; }

    /// <summary>Makes this a TLS client: the handshake (trusting the test authority), then everything goes through it.</summary>
    public TestClient StartTls(string? hostName = "localhost", System.Net.Security.SslClientAuthenticationOptions? options = null)
    {
        var tls = new System.Net.Security.SslStream(new NetworkStream(Socket, ownsSocket: false), leaveInnerStreamOpen: false);
        options ??= new System.Net.Security.SslClientAuthenticationOptions();
        options.TargetHost ??= hostName;
        options.RemoteCertificateValidationCallback ??= new System.Net.Security.RemoteCertificateValidationCallback(
            (_, certificate, _, errors) => Snow.Native.Tests.Tls.TestCertificates.Instance.Trusts(certificate, errors));
        tls.AuthenticateAsClient(options);
        Tls = tls;
        return this;
    }

    public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

    public void Send(ReadOnlySpan<byte> bytes)
    {
        if (Tls is not null)
        {
            Tls.Write(bytes);
            return;
        }
        while (!bytes.IsEmpty)
        {
            int sent = Socket.Send(bytes);
            bytes = bytes[sent..];
        }
    }

    /// <summary>
    /// Reads one response: status line, headers, then the body: Content-Length bytes, a chunked body (decoded), or
    /// everything to the end of the stream when neither is given.
    /// </summary>
    public WireResponse ReadResponse(bool headRequest = false)
    {
        WireResponse response = ReadResponseHead();
        int code = response.Status;
        string? length = response.Header("Content-Length");
        byte[] body;
        if (headRequest || code < 200 || code == 204 || code == 304) body = [];
        else if (string.Equals(response.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase)) body = ReadChunkedBody();
        else if (length is not null) body = ReadExactly(int.Parse(length));
        else body = ReadToEnd();
        return response with { Body = body };
    }

    /// <summary>Reads the status line and headers of a response, and nothing of its body.</summary>
    public WireResponse ReadResponseHead()
    {
        string head = ReadHead() ?? throw new IOException("the connection closed before a response arrived");
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }
        return new WireResponse(status[0], int.Parse(status[1]), status.Length > 2 ? status[2] : "", headers, []);
    }

    /// <summary>Reads one chunk of a chunked body: its data, or null for the last chunk (whose trailers are read too).</summary>
    public byte[]? ReadChunk()
    {
        string sizeLine = ReadLine();
        int size = Convert.ToInt32(sizeLine.Split(';')[0], 16);
        if (size == 0)
        {
            while (ReadLine().Length > 0)
            {
                // trailer fields
            }
            return null;
        }
        byte[] data = ReadExactly(size);
        if (ReadLine().Length != 0) throw new IOException("chunk data not followed by CRLF");
        return data;
    }

    /// <summary>Reads exactly <paramref name="length"/> bytes, whatever they are.</summary>
    public byte[] ReadExactly(int length)
    {
        var bytes = new byte[length];
        int copied = 0;
        while (copied < length)
        {
            if (_start == _end && !Fill()) throw new IOException($"the connection closed after {copied} of {length} bytes");
            int n = Math.Min(length - copied, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(bytes.AsSpan(copied));
            _start += n;
            copied += n;
        }
        return bytes;
    }

    /// <summary>True if the server closed the connection (reads end of stream, or a reset) within the timeout.</summary>
    public bool WaitForClose()
    {
        try
        {
            while (true)
            {
                if (_start < _end)
                {
                    _start = _end; // unread bytes: skip them
                    continue;
                }
                int n = Tls is not null ? Tls.Read(_buffer) : Socket.Receive(_buffer);
                if (n == 0) return true;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut || e.SocketErrorCode == SocketError.WouldBlock)
        {
            return false;
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock })
        {
            return false;
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return true;
        }
        catch (IOException e) when (Tls is not null && e.InnerException is not SocketException)
        {
            return true; // the server ended the TLS session with a fatal alert (a bad record: bad_record_mac), then closed
        }
    }

    /// <summary>True when nothing arrives within <paramref name="wait"/> and the connection stays open.</summary>
    public bool IsSilentFor(TimeSpan wait)
    {
        if (_start < _end) return false;
        return !Socket.Poll((int)(wait.TotalMilliseconds * 1000), SelectMode.SelectRead);
    }

    public void Dispose()
    {
        Tls?.Dispose();
        Socket.Dispose();
    }

    private string? ReadHead()
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                string head = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 4;
                return head;
            }
            if (!Fill()) return null;
        }
    }

    private byte[] ReadChunkedBody()
    {
        var body = new MemoryStream();
        while (ReadChunk() is byte[] chunk) body.Write(chunk);
        return body.ToArray();
    }

    private string ReadLine()
    {
        while (true)
        {
            int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                string line = Encoding.Latin1.GetString(_buffer, _start, end);
                _start += end + 2;
                return line;
            }
            if (!Fill()) throw new IOException("the connection closed in the middle of a line");
        }
    }

    private byte[] ReadToEnd()
    {
        var all = new MemoryStream();
        while (true)
        {
            all.Write(_buffer, _start, _end - _start);
            _start = _end;
            if (!Fill()) return all.ToArray();
        }
    }

    private bool Fill()
    {
        if (_start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int n = Tls is not null ? Tls.Read(_buffer, _end, _buffer.Length - _end) : Socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0) return false;
        _end += n;
        return true;
    }
}
