using System.Net.Sockets;
using System.Text;
using Snow.Native.Interop;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;

namespace Snow.Native.Tests.Server;

/// <summary>Many connections at once, and running out of descriptors, against the bench server in a child process.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class ScaleTests(PollerKind poller)
{
    private const int Parked = 10_000;

    [Test]
    public void TenThousandParkedRequestsCostNoCpuAndAllCompleteWhenReleased()
    {
        if (poller == PollerKind.Select)
        {
            Assert.Ignore("select holds descriptors below FD_SETSIZE (1024) only: 10,000 connections need epoll or kqueue");
        }
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

    [Test]
    public void RunningOutOfDescriptorsPausesAcceptingWithoutSpinning()
    {
        // 72 descriptors in all: the runtime's own (two per loaded assembly: ~60 at idle, the meter's included), the
        // poller's, the listener, and a few connections.
        using var server = new ChildServer(PollerFactory.Name(poller), "--max-open-files", "72");
        const int clientCount = 150;
        var clients = new List<TestClient>(clientCount);
        try
        {
            for (int i = 0; i < clientCount; i++)
            {
                var client = new TestClient(server.EndPoint, TimeSpan.FromSeconds(60));
                client.Send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
                clients.Add(client);
            }
            // The server is out of descriptors with connections waiting in the backlog: it must sleep, not spin.
            Thread.Sleep(500);
            TimeSpan cpuBefore = server.Process.TotalProcessorTime;
            Thread.Sleep(2000);
            TimeSpan cpu = server.Process.TotalProcessorTime - cpuBefore;
            Assert.That(cpu, Is.LessThan(TimeSpan.FromMilliseconds(500)), $"the server used {cpu.TotalMilliseconds:F0} ms of CPU in 2 s while out of descriptors");

            // As served clients leave, descriptors come back and every waiting client is served.
            int served = 0;
            foreach (TestClient client in clients)
            {
                WireResponse response = client.ReadResponse();
                if (response.Status == 200 && response.Text == "Hello, World!") served++;
                client.Dispose();
            }
            Assert.That(served, Is.EqualTo(clientCount));
            Assert.That(server.Errors, Is.Empty.Or.Not.Contains("Unhandled exception"));
        }
        finally
        {
            foreach (TestClient client in clients) client.Dispose();
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
