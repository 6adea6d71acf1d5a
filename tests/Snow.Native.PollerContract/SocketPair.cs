using System.Net;
using System.Net.Sockets;

namespace Snow.Native.PollerContract;

/// <summary>Two connected TCP sockets over 127.0.0.1, and their raw descriptors.</summary>
public sealed class SocketPair : IDisposable
{
    private SocketPair(Socket client, Socket server)
    {
        Client = client;
        Server = server;
    }

    public Socket Client { get; }

    public Socket Server { get; }

    public int ClientFd => (int)Client.SafeHandle.DangerousGetHandle();

    public int ServerFd => (int)Server.SafeHandle.DangerousGetHandle();

    public static SocketPair Create(Socket listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Socket server = listener.Accept();
        return new SocketPair(client, server);
    }

    public static Socket Listen(int backlog = 512)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(backlog);
        return listener;
    }

    public static List<SocketPair> CreateMany(Socket listener, int count)
    {
        var pairs = new List<SocketPair>(count);
        try
        {
            for (int i = 0; i < count; i++) pairs.Add(Create(listener));
        }
        catch
        {
            foreach (SocketPair pair in pairs) pair.Dispose();
            throw;
        }
        return pairs;
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
