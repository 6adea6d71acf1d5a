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

    public TestClient(IPEndPoint server, TimeSpan? timeout = null)
    {
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Socket.ReceiveTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        Socket.SendTimeout = (int)(timeout ?? DefaultTimeout).TotalMilliseconds;
        Socket.Connect(server);
    }

    public Socket Socket { get; }

    public void Send(string text) => Send(Encoding.Latin1.GetBytes(text));

    public void Send(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = Socket.Send(bytes);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Reads one response: status line, headers, then Content-Length bytes (or to the end when absent).</summary>
    public WireResponse ReadResponse(bool headRequest = false)
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
        int code = int.Parse(status[1]);
        string? length = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
        byte[] body;
        if (headRequest || code < 200 || code == 204 || code == 304) body = [];
        else if (length is not null) body = ReadExactly(int.Parse(length));
        else body = ReadToEnd();
        return new WireResponse(status[0], code, status.Length > 2 ? status[2] : "", headers, body);
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
                int n = Socket.Receive(_buffer);
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
    }

    /// <summary>True when nothing arrives within <paramref name="wait"/> and the connection stays open.</summary>
    public bool IsSilentFor(TimeSpan wait)
    {
        if (_start < _end) return false;
        return !Socket.Poll((int)(wait.TotalMilliseconds * 1000), SelectMode.SelectRead);
    }

    public void Dispose() => Socket.Dispose();

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

    private byte[] ReadExactly(int length)
    {
        var body = new byte[length];
        int copied = 0;
        while (copied < length)
        {
            if (_start == _end && !Fill()) throw new IOException($"the connection closed after {copied} of {length} body bytes");
            int n = Math.Min(length - copied, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(body.AsSpan(copied));
            _start += n;
            copied += n;
        }
        return body;
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
        int n = Socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (n == 0) return false;
        _end += n;
        return true;
    }
}
