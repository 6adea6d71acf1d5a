using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Snow.Native.Transport.Tls;

namespace Snow.Native.Tests.Tls;

public sealed class TlsEngineTuningTests
{
    [Test]
    public async Task OnLinuxTheSessionsRecordBuffersAreFreedWhileEmpty()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("NOTE: OpenSSL's buffer mode is set on Linux only; elsewhere SslStream is left as it is");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using TcpClient accepted = listener.AcceptTcpClient();
        using var server = new SslStream(accepted.GetStream());
        using var peer = new SslStream(client.GetStream(), false, (_, _, _, _) => true);
        await Task.WhenAll(server.AuthenticateAsServerAsync(TestCertificates.Instance.Server), peer.AuthenticateAsClientAsync("localhost"));
        Assert.That(TlsEngineTuning.ReleaseBuffersWhenIdle(server), Is.True, "SSL_MODE_RELEASE_BUFFERS set on the runtime's session");
        // The session still works afterwards, both ways.
        await peer.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await server.ReadExactlyAsync(buffer);
        Assert.That(buffer, Is.EqualTo("ping"u8.ToArray()));
        await server.WriteAsync("pong"u8.ToArray());
        await peer.ReadExactlyAsync(buffer);
        Assert.That(buffer, Is.EqualTo("pong"u8.ToArray()));
    }
}
