using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Snow.Native.Http1;
using Snow.Native.Polling;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Protocol;

namespace Snow.Native.Tests.Server;

/// <summary>What the connection split must show over real sockets, once per poller: the two defects it fixed,
/// the upgrade hand-off, and streamed request bodies with back-pressure.</summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class ConnectionSplitTests(PollerKind poller)
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

    [Test]
    public void PartialHeadsOnTwoConnectionsOfOneLoopDoNotMixTheirParseState()
    {
        // Issue 9, defect 1: A's valid request was never answered once B's partial head of the same length came between.
        using var server = new RunningServer([("^/index/$", _ => new HttpResponse("OK")), ("^/a$", _ => new HttpResponse("a"))], poller);
        using TestClient a = server.Connect(Short);
        using TestClient b = server.Connect(Short);
        a.Send("GET /index/ HTTP/1.1\r\nX: 1\r\n"); // 28 bytes
        Assert.That(RunningServer.Eventually(() => server.App.ConnectionCount == 2), Is.True);
        Thread.Sleep(50);
        b.Send("GET /a HTTP/1.1\r\nHost: abcde"); // 28 bytes
        Thread.Sleep(50);
        a.Send("Host: x\r\n\r\n");
        Assert.That(a.ReadResponse().Text, Is.EqualTo("OK"));
        b.Send("\r\n\r\n");
        Assert.That(b.ReadResponse().Text, Is.EqualTo("a"));
    }

    [Test]
    public void AnnouncedBodiesPinOnlyTheBytesThatArrived()
    {
        // Issue 9, defect 2: 40 clients announcing 29 MB and sending 8 KiB each pinned 1.16 GB.
        using var server = new RunningServer([new Route("^/up$", r => new HttpResponse(r.Body.Length.ToString()), "POST")], poller,
            options => options.Limits.MaxRequestBodyBytes = 30_000_000);
        var clients = new List<TestClient>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                TestClient client = server.Connect(Short);
                client.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 29000000\r\n\r\n");
                client.Send(new byte[8 * 1024]);
                clients.Add(client);
            }
            Assert.That(RunningServer.Eventually(() => server.App.BufferedRequestBodyBytes >= 40 * 4096), Is.True,
                "every body has grown past the first buffer");
            Thread.Sleep(100);
            Assert.That(server.App.BufferedRequestBodyBytes, Is.LessThanOrEqualTo(40 * 16 * 1024));
        }
        finally
        {
            foreach (TestClient client in clients) client.Dispose();
        }
        Assert.That(RunningServer.Eventually(() => server.App.BufferedRequestBodyBytes == 0), Is.True, "closed clients give the budget back");
    }

    [Test]
    public void AnUpgradedConnectionCarriesTheNewProtocolWithTheBytesSentBehindTheRequest()
    {
        using var server = new RunningServer(
            [("^/echo-protocol$", _ => new UpgradeResponse(transport => new EchoProtocol(transport)) { Headers = { { "Upgrade", "echo" }, { "Connection", "Upgrade" } } })],
            poller);
        using TestClient client = server.Connect(Short);
        client.Send("GET /echo-protocol HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nfirst bytes;");
        WireResponse head = client.ReadResponseHead();
        Assert.That(head.Status, Is.EqualTo(101));
        Assert.That(head.Header("Upgrade"), Is.EqualTo("echo"));
        Assert.That(client.ReadExactly("first bytes;".Length), Is.EqualTo("first bytes;"u8.ToArray()));
        client.Send("GET /echo-protocol HTTP/1.1\r\n\r\n");
        Assert.That(Encoding.ASCII.GetString(client.ReadExactly(31)), Is.EqualTo("GET /echo-protocol HTTP/1.1\r\n\r\n"));
    }

    [Test]
    public void AStreamedBodyIsReadAsItArrivesWithBackPressure()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long received = 0;
        async Task<HttpResponse> Slow(HttpRequest request)
        {
            await release.Task.ConfigureAwait(false); // does not read until told to
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[16 * 1024];
            int read;
            while ((read = await request.ReadBodyAsync(buffer).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                Interlocked.Add(ref received, read);
            }
            return new HttpResponse(Convert.ToHexString(hash.GetHashAndReset()));
        }
        using var server = new RunningServer([new Route("^/up$", Slow, "POST") { StreamBody = true }], poller,
            options => options.Limits.MaxRequestBodyBytes = 100_000_000);
        byte[] body = new byte[32 * 1024 * 1024];
        new Random(9).NextBytes(body);
        using TestClient client = server.Connect(TimeSpan.FromSeconds(30));
        client.Send($"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n");
        client.Socket.Blocking = false;
        int sent = 0;
        var stalled = Stopwatch.StartNew();
        while (stalled.Elapsed < TimeSpan.FromSeconds(0.5) && sent < body.Length)
        {
            try
            {
                int n = client.Socket.Send(body, sent, Math.Min(64 * 1024, body.Length - sent), SocketFlags.None);
                sent += n;
                stalled.Restart();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                Thread.Sleep(10);
            }
        }
        Assert.That(sent, Is.LessThan(body.Length / 2), "the server stopped reading while the handler took nothing");
        Assert.That(server.App.BuffersInUse, Is.LessThanOrEqualTo(2), "what waits is in TCP's buffers, not the server's");
        client.Socket.Blocking = true;
        release.SetResult();
        client.Send(body.AsSpan(sent));
        WireResponse response = client.ReadResponse();
        Assert.That(response.Text, Is.EqualTo(Convert.ToHexString(SHA256.HashData(body))));
        Assert.That(Interlocked.Read(ref received), Is.EqualTo(body.Length));
    }

    [Test]
    public void AChunkedStreamedBodyArrivesDecodedAndTheConnectionGoesOn()
    {
        async Task<HttpResponse> Collect(HttpRequest request)
        {
            var all = new MemoryStream();
            await request.BodyStream.CopyToAsync(all).ConfigureAwait(false);
            return new HttpResponse(Encoding.ASCII.GetString(all.ToArray()));
        }
        using var server = new RunningServer([new Route("^/up$", Collect, "POST") { StreamBody = true }, ("^/a$", _ => new HttpResponse("a"))], poller);
        using TestClient client = server.Connect(Short);
        client.Send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        Thread.Sleep(50);
        client.Send("6\r\n world\r\n0\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("hello world"));
        Assert.That(client.ReadResponse().Text, Is.EqualTo("a"), "a body read to its end leaves the connection usable");
    }

    [Test]
    public void AHandlerThatAnswersBeforeReadingItsStreamedBodyClosesTheConnection()
    {
        using var server = new RunningServer([new Route("^/up$", _ => new HttpResponse("no thanks", 413), "POST") { StreamBody = true }], poller);
        using TestClient client = server.Connect(Short);
        client.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nsome");
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(413));
        Assert.That(response.Closes, Is.True, "the unread body cannot be told from a next request");
    }

    [Test]
    public void AClientThatLeavesMidBodyFailsTheHandlersRead()
    {
        var failure = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<HttpResponse> Read(HttpRequest request)
        {
            try
            {
                byte[] buffer = new byte[1024];
                while (await request.ReadBodyAsync(buffer).ConfigureAwait(false) > 0)
                {
                }
                failure.TrySetResult(null);
            }
            catch (Exception e)
            {
                failure.TrySetResult(e);
            }
            return new HttpResponse("read");
        }
        using var server = new RunningServer([new Route("^/up$", Read, "POST") { StreamBody = true }], poller);
        using (TestClient client = server.Connect(Short))
        {
            client.Send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npart of it");
            Thread.Sleep(100);
        }
        Assert.That(failure.Task.Wait(Short), Is.True);
        Assert.That(failure.Task.Result, Is.InstanceOf<IOException>());
        Assert.That(RunningServer.Eventually(() => server.App.ParkedRequestCount == 0 && server.App.ConnectionCount == 0), Is.True);
    }

    [Test]
    public void AGibibyteUploadThroughAHashingHandlerKeepsTheServersMemoryBounded()
    {
        using var server = new ChildServer(PollerFactory.Name(PollerFactory.Resolve(poller)), "--max-body", "2000000000");
        // The peak RSS comes from /proc (Linux); elsewhere the upload and its hash are still checked.
        bool measured = File.Exists($"/proc/{server.Process.Id}/status");
        long before = measured ? StatusKilobytes(server.Process.Id, "VmRSS") : 0;
        const long size = 1L << 30;
        byte[] block = new byte[256 * 1024];
        new Random(1).NextBytes(block);
        using var expected = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using TestClient client = server.Connect(TimeSpan.FromSeconds(120));
        client.Send($"PUT /upload/ HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n");
        for (long sent = 0; sent < size; sent += block.Length)
        {
            block[0] = (byte)(sent >> 18); // no two blocks alike
            expected.AppendData(block);
            client.Send(block);
        }
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(200), response.Text);
        Assert.That(response.Text, Is.EqualTo($"{size} {Convert.ToHexString(expected.GetHashAndReset()).ToLowerInvariant()}"));
        if (!measured)
        {
            TestContext.Out.WriteLine("NOTE: no /proc on this system: the server's peak RSS was not measured");
            return;
        }
        long peak = StatusKilobytes(server.Process.Id, "VmHWM");
        TestContext.Out.WriteLine($"server RSS before {before} KiB, peak {peak} KiB: growth {(peak - before) / 1024.0:F1} MiB for 1 GiB");
        Assert.That((peak - before) * 1024, Is.LessThan(64L * 1024 * 1024));
    }

    private static long StatusKilobytes(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
            }
        }
        throw new InvalidOperationException($"/proc/{pid}/status has no {field}");
    }
}
