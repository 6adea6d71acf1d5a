using System.Net.Sockets;
using System.Text;
using Snow.Native.Interop;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>
/// Many connections at once, against the bench server in a child process, once per poller that can hold them
/// (select cannot: it stops at FD_SETSIZE, 1024 descriptors).
/// </summary>
[TestFixtureSource(typeof(ScaleTests), nameof(ScalablePollers))]
[NonParallelizable]
public sealed class ScaleTests(PollerKind poller)
{
    private const int Parked = 10_000;

    public static IEnumerable<PollerKind> ScalablePollers => AvailablePollers.Kinds.Where(kind => kind != PollerKind.Select);

    [Test]
    public void TenThousandParkedRequestsCostNoCpuAndAllCompleteWhenReleased()
    {
        Libc.RaiseOpenFileLimit();
        using var server = new ChildServer(PollerFactory.Name(poller));
        var clients = new List<Socket>(Parked);
        try
        {
            byte[] request = Encoding.ASCII.GetBytes("GET /park/ HTTP/1.1\r\nHost: x\r\n\r\n");
            for (int i = 0; i < Parked; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(socket);
                socket.Connect(server.EndPoint);
                socket.Send(request);
            }
            Assert.That(RunningServer.Eventually(() => Stats(server).Contains($"parked={Parked} "), TimeSpan.FromSeconds(60)), Is.True,
                $"all requests should be parked: {Stats(server)}");

            // Parked requests cost nothing while they wait: the server sleeps in the kernel.
            TimeSpan cpuBefore = server.Process.TotalProcessorTime;
            Thread.Sleep(2000);
            TimeSpan cpu = server.Process.TotalProcessorTime - cpuBefore;
            Assert.That(cpu, Is.LessThan(TimeSpan.FromMilliseconds(200)), $"the idle server used {cpu.TotalMilliseconds:F0} ms of CPU in 2 s");

            Assert.That(Get(server, "/release/"), Is.EqualTo(Parked.ToString()));
            int answered = 0;
            byte[] buffer = new byte[1024];
            foreach (Socket socket in clients)
            {
                socket.ReceiveTimeout = 30_000;
                var received = new StringBuilder();
                while (!received.ToString().EndsWith("released", StringComparison.Ordinal))
                {
                    int n = socket.Receive(buffer);
                    if (n == 0) break;
                    received.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                string text = received.ToString();
                if (text.StartsWith("HTTP/1.1 200 OK\r\n", StringComparison.Ordinal) && text.EndsWith("released", StringComparison.Ordinal)) answered++;
            }
            Assert.That(answered, Is.EqualTo(Parked));
            Assert.That(Stats(server), Does.StartWith("parked=0 "));
        }
        finally
        {
            foreach (Socket socket in clients) socket.Dispose();
        }
    }

    private static string Stats(ChildServer server) => Get(server, "/stats/");

    private static string Get(ChildServer server, string path)
    {
        using var client = new TestClient(server.EndPoint);
        client.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        return client.ReadResponse().Text;
    }
}
