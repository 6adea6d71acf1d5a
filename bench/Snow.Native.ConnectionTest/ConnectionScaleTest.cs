using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Snow.Native.Polling;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// The three measurements, in order, on one set of connections:
/// idle keep-alive connections, then a parked request on each of those same connections, then one release.
/// Reusing the idle connections for the parked requests keeps both processes near N sockets instead of 2N,
/// which matters under a 20,000 open-file limit; the parked figure is therefore "what one parked request adds
/// to an existing keep-alive connection".
/// </summary>
internal sealed class ConnectionScaleTest(TestOptions options, Report report, TextWriter log)
{
    private static readonly TimeSpan ReleaseDeadline = TimeSpan.FromSeconds(30);

    private readonly ResidentMemory _serverMemory = new(options.ServerProcessIds);
    private int _idleErrors;
    private int _warmupFailures;
    private int _parkedErrors;
    private int _releaseErrors;
    private string? _firstError;

    public int Errors => _idleErrors + _parkedErrors + _releaseErrors;

    private string? TlsHost => options.Url.Scheme == "https" ? options.Url.Host : null;

    public async Task RunAsync(CancellationToken cancellation)
    {
        // Several urls are instances of one app: connection i goes to instance i mod n, the release to the first.
        var servers = new List<IPEndPoint>();
        foreach (Uri url in options.Urls) servers.Add(await ResolveAsync(url, cancellation).ConfigureAwait(false));
        IPEndPoint server = servers[0];
        string host = options.Url.Authority;
        byte[] plaintextRequest = Request("GET", "/plaintext", host);
        byte[] parkRequest = Request("GET", "/park/", host);
        byte[] releaseRequest = Request("GET", "/release/", host);

        // Several rounds with pauses: tiered compilation promotes hot methods in the background after ~30 calls and a
        // 100 ms quiet period (twice over with dynamic PGO), and its code heap growth must not be charged to the
        // measured connections of any server.
        for (int round = 0; round < options.WarmupRounds; round++)
        {
            foreach (IPEndPoint instance in servers) await WarmUpAsync(instance, plaintextRequest, parkRequest, releaseRequest, cancellation).ConfigureAwait(false);
            await Task.Delay(500, cancellation).ConfigureAwait(false);
        }

        // Idle keep-alive connections.
        long rssBeforeIdle = await _serverMemory.WaitUntilSettledAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        report.Add("rss_before_idle_bytes", rssBeforeIdle);
        log.WriteLine($"opening {options.Connections} keep-alive connections");
        var openTime = Stopwatch.StartNew();
        List<KeepAliveConnection> connections = await OpenIdleConnectionsAsync(servers, plaintextRequest, cancellation).ConfigureAwait(false);
        report.Add("idle_open_ms", Math.Round(openTime.Elapsed.TotalMilliseconds));
        report.Add("idle_connections", connections.Count);
        report.Add("idle_errors", _idleErrors);
        try
        {
            long rssAfterIdle = await _serverMemory.WaitUntilSettledAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15), cancellation).ConfigureAwait(false);
            report.Add("rss_after_idle_bytes", rssAfterIdle);
            if (connections.Count > 0) report.Add("idle_rss_per_conn_bytes", (rssAfterIdle - rssBeforeIdle) / connections.Count);

            if (!options.Park || connections.Count == 0) return;
            await ParkAndReleaseAsync(server, connections, parkRequest, releaseRequest, cancellation).ConfigureAwait(false);
        }
        finally
        {
            foreach (KeepAliveConnection connection in connections) connection.Dispose();
        }
    }

    public void ReportErrors()
    {
        report.Add("errors", Errors);
        if (_firstError is not null) report.Add("first_error", _firstError);
    }

    private async Task ParkAndReleaseAsync(IPEndPoint server, List<KeepAliveConnection> connections, byte[] parkRequest,
        byte[] releaseRequest, CancellationToken cancellation)
    {
        long rssBeforeParked = _serverMemory.ReadBytes();
        report.Add("rss_before_parked_bytes", rssBeforeParked);
        log.WriteLine($"parking a request on each of {connections.Count} connections");

        var parked = new List<KeepAliveConnection>(connections.Count);
        foreach (KeepAliveConnection connection in connections)
        {
            try
            {
                await connection.SendAsync(parkRequest, cancellation).ConfigureAwait(false);
                parked.Add(connection);
            }
            catch (Exception error) when (error is SocketException or IOException)
            {
                CountError(ref _parkedErrors, error);
            }
        }
        report.Add("parked_requests", parked.Count);

        long rssAfterParked = await _serverMemory.WaitUntilSettledAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20), cancellation).ConfigureAwait(false);
        report.Add("rss_after_parked_bytes", rssAfterParked);
        if (parked.Count > 0) report.Add("parked_rss_per_req_bytes", (rssAfterParked - rssBeforeParked) / parked.Count);

        // The parked responses are read by one thread on the OS's own poller, not by thousands of async reads: the
        // release time then measures the server, not the client's thread pool.
        using IPoller poller = PollerFactory.Create(PollerFactory.PlatformDefault);
        for (int i = 0; i < parked.Count; i++)
        {
            parked[i].MakeNonBlocking();
            poller.Register(parked[i].Descriptor, PollInterest.Read, i);
        }
        var events = new PollEvent[1024];
        report.Add("parked_answered_before_release", poller.Wait(events, 0));

        // The release connection is opened before the clock starts, so the time is the server's, not a handshake's.
        using KeepAliveConnection releaser = await KeepAliveConnection.ConnectAsync(server, cancellation, TlsHost).ConfigureAwait(false);
        log.WriteLine("releasing");
        using var releaseWait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        releaseWait.CancelAfter(ReleaseDeadline);
        long releaseSent = Stopwatch.GetTimestamp();
        await releaser.SendAsync(releaseRequest, cancellation).ConfigureAwait(false);
        Task releaseResponse = ReadReleaseResponseAsync(releaser, releaseSent, releaseWait.Token);

        var done = new bool[parked.Count];
        int remaining = parked.Count;
        int answered = 0;
        long lastAnswer = releaseSent;
        while (remaining > 0 && !releaseWait.IsCancellationRequested)
        {
            // Spins rather than sleeps: a sleeping reader makes every server send pay a cross-core wake-up, which
            // on a VM costs more than the server's own work and would be charged to it.
            int count = poller.Wait(events, 0);
            for (int e = 0; e < count; e++)
            {
                int index = (int)events[e].Token;
                if (done[index] || !parked[index].TryReadAvailable(out int status, out string? body, out Exception? error)) continue;
                done[index] = true;
                remaining--;
                poller.Unregister(parked[index].Descriptor);
                if (error is null && status == 200 && body == "released")
                {
                    answered++;
                    lastAnswer = Stopwatch.GetTimestamp();
                }
                else
                {
                    CountError(ref _parkedErrors, error ?? new IOException($"parked request answered {status}: {body}"));
                }
            }
        }
        cancellation.ThrowIfCancellationRequested();
        for (int i = 0; i < remaining; i++) CountError(ref _parkedErrors, new TimeoutException("parked request not answered after the release"));
        await releaseResponse.ConfigureAwait(false);

        report.Add("parked_released_ok", answered);
        report.Add("parked_errors", _parkedErrors);
        if (answered > 0) report.Add("release_all_ms", Stopwatch.GetElapsedTime(releaseSent, lastAnswer).TotalMilliseconds);
    }

    private async Task ReadReleaseResponseAsync(KeepAliveConnection releaser, long releaseSent, CancellationToken releaseWait)
    {
        try
        {
            (int status, string? body) = await releaser.ReadResponseAsync(keepBody: true, releaseWait).ConfigureAwait(false);
            report.Add("release_response_ms", Stopwatch.GetElapsedTime(releaseSent).TotalMilliseconds);
            report.Add("release_status", status);
            report.Add("released_count", body?.Trim() ?? "");
            if (status != 200) CountError(ref _releaseErrors, new IOException($"/release/ answered {status}"));
        }
        catch (Exception error) when (error is SocketException or IOException or FormatException or OperationCanceledException)
        {
            CountError(ref _releaseErrors, error);
        }
    }

    private static async Task<ParkedOutcome> AwaitParkedResponseAsync(KeepAliveConnection connection, CancellationToken releaseWait)
    {
        try
        {
            (int status, string? body) = await connection.ReadResponseAsync(keepBody: true, releaseWait).ConfigureAwait(false);
            return new ParkedOutcome(status, body, Stopwatch.GetTimestamp(), null);
        }
        catch (Exception error) when (error is SocketException or IOException or FormatException or OperationCanceledException)
        {
            return new ParkedOutcome(-1, null, Stopwatch.GetTimestamp(), error);
        }
    }

    private async Task<List<KeepAliveConnection>> OpenIdleConnectionsAsync(List<IPEndPoint> servers, byte[] plaintextRequest, CancellationToken cancellation)
    {
        var opened = new KeepAliveConnection?[options.Connections];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.ConnectConcurrency, CancellationToken = cancellation };
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Connections), parallel, async (index, token) =>
        {
            KeepAliveConnection? connection = null;
            try
            {
                connection = await KeepAliveConnection.ConnectAsync(servers[index % servers.Count], token, TlsHost).ConfigureAwait(false);
                await connection.SendAsync(plaintextRequest, token).ConfigureAwait(false);
                (int status, _) = await connection.ReadResponseAsync(keepBody: false, token).ConfigureAwait(false);
                if (status != 200) throw new IOException($"/plaintext answered {status}");
                opened[index] = connection;
            }
            catch (Exception error) when (error is SocketException or IOException or FormatException)
            {
                connection?.Dispose();
                CountError(ref _idleErrors, error);
            }
        }).ConfigureAwait(false);
        return [.. opened.OfType<KeepAliveConnection>()];
    }

    /// <summary>
    /// Runs every code path once on a few connections and closes them, so the JIT, the server's pools and its
    /// first GC growth are not charged to the connections being measured.
    /// </summary>
    private async Task WarmUpAsync(IPEndPoint server, byte[] plaintextRequest, byte[] parkRequest, byte[] releaseRequest, CancellationToken cancellation)
    {
        if (options.WarmupConnections <= 0) return;
        var connections = new List<KeepAliveConnection>();
        int failures = 0;
        try
        {
            for (int i = 0; i < options.WarmupConnections; i++)
            {
                KeepAliveConnection connection = await KeepAliveConnection.ConnectAsync(server, cancellation, TlsHost).ConfigureAwait(false);
                connections.Add(connection);
                for (int round = 0; round < 4; round++)
                {
                    await connection.SendAsync(plaintextRequest, cancellation).ConfigureAwait(false);
                    (int status, _) = await connection.ReadResponseAsync(keepBody: false, cancellation).ConfigureAwait(false);
                    if (status != 200) failures++;
                }
            }
            if (options.Park)
            {
                using var warmupWait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                warmupWait.CancelAfter(TimeSpan.FromSeconds(10));
                var parked = new List<Task<ParkedOutcome>>();
                foreach (KeepAliveConnection connection in connections)
                {
                    await connection.SendAsync(parkRequest, cancellation).ConfigureAwait(false);
                    parked.Add(AwaitParkedResponseAsync(connection, warmupWait.Token));
                }
                await Task.Delay(500, cancellation).ConfigureAwait(false);
                using KeepAliveConnection releaser = await KeepAliveConnection.ConnectAsync(server, cancellation, TlsHost).ConfigureAwait(false);
                await releaser.SendAsync(releaseRequest, cancellation).ConfigureAwait(false);
                await releaser.ReadResponseAsync(keepBody: false, warmupWait.Token).ConfigureAwait(false);
                failures += (await Task.WhenAll(parked).ConfigureAwait(false)).Count(outcome => outcome.Status != 200);
            }
        }
        catch (Exception error) when (error is SocketException or IOException or FormatException
                                      || (error is OperationCanceledException && !cancellation.IsCancellationRequested))
        {
            failures++;
            _firstError ??= OneLine(error);
        }
        finally
        {
            foreach (KeepAliveConnection connection in connections) connection.Dispose();
        }
        // Warm-up failures are reported but not counted as errors: they are not part of any measurement.
        _warmupFailures += failures;
        report.Add("warmup_failures", _warmupFailures);
    }

    private void CountError(ref int counter, Exception error)
    {
        Interlocked.Increment(ref counter);
        Interlocked.CompareExchange(ref _firstError, OneLine(error), null);
    }

    private static string OneLine(Exception error) => $"{error.GetType().Name}: {error.Message}".ReplaceLineEndings(" ");

    private static byte[] Request(string method, string path, string host) =>
        Encoding.ASCII.GetBytes($"{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");

    private static async Task<IPEndPoint> ResolveAsync(Uri url, CancellationToken cancellation)
    {
        int port = url.IsDefaultPort ? 80 : url.Port;
        if (IPAddress.TryParse(url.DnsSafeHost, out IPAddress? address)) return new IPEndPoint(address, port);
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, cancellation).ConfigureAwait(false);
        return new IPEndPoint(addresses.First(), port);
    }

    private readonly record struct ParkedOutcome(int Status, string? Body, long Completed, Exception? Error);
}
