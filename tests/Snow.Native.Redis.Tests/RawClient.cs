using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Snow.Native.Redis.Tests;

/// <summary>A response as read off the wire: status and body (the server always sends a Content-Length here).</summary>
internal sealed record RawResponse(int Status, string Text);

/// <summary>A keep-alive HTTP/1.1 client on one socket: sends exact requests and reads responses strictly.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public RawClient(IPEndPoint server, TimeSpan timeout)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _socket.SendTimeout = (int)timeout.TotalMilliseconds;
        _socket.Connect(server);
    }

    public void Send(string request) => _socket.Send(Encoding.ASCII.GetBytes(request));

    public RawResponse ReadResponse()
    {
        string head = ReadHead();
        string[] lines = head.Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        int length = 0;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) length = int.Parse(line[(colon + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        while (_end - _start < length) Fill();
        string body = Encoding.UTF8.GetString(_buffer, _start, length);
        _start += length;
        return new RawResponse(status, body);
    }

    private string ReadHead()
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
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new IOException("response head too large");
        int read = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        if (read == 0) throw new IOException("the connection closed before a whole response arrived");
        _end += read;
    }

    public void Dispose() => _socket.Dispose();
}
