
namespace Snow.Native.Redis.Tests;

/// <summary>
/// Faults with a real redis-server that the tests stop and start: down when the instances start, and restarted
/// empty under parked requests. Waiters stay parked until a publish or their own timeout; a publish while Redis is
/// down fails at once with a clear exception; nothing parked is answered twice.
/// </summary>
[TestFixtureSource(typeof(Pollers), nameof(Pollers.Kinds))]
[NonParallelizable]
public sealed class RedisFaultTests(PollerKind poller)
{
    [Test]
    public async Task RedisDownAtStartParksWaitersUntilItComesUp()
    {
        using var redis = new RedisServer(start: false);
        using var a = new Instance(redis, poller);
        using var b = new Instance(redis, poller);
        Assert.That(a.Futures.IsConnected, Is.False);

        using RawClient parked = a.Send("/req/early");
        KeyedFuture future = a.WaitForFuture(1);
        Task listening = future.Listening;
        RawResponse refused = b.Get("/stop/early");
        Assert.That((refused.Status, refused.Text), Is.EqualTo((503, "unreachable")), "a publish while Redis is down fails at once");
        var direct = Assert.ThrowsAsync<KeyedPublishException>(() => b.Futures.PublishAsync("early", "x"));
        Assert.That(direct!.MayHaveBeenDelivered, Is.False);
        Assert.That(direct.Message, Does.Contain("unreachable").And.Contain("'early'"));
        Assert.That(listening.IsCompleted || future.IsReady, Is.False, "the wait cannot take effect without Redis");

        // A waiter that leaves while Redis is down drops its key's subscription attempt with it, and its Listening ends.
        using (RawClient leaving = a.Send("/req/early-gone"))
        {
            _ = a.WaitForFuture(2);
        }
        KeyedFuture gone = a.Made[1];
        Assert.That(Instance.Eventually(() => gone.IsAbandoned && a.Futures.WaitingCount == 1), Is.True);
        await gone.Listening.WaitAsync(TimeSpan.FromSeconds(15));

        redis.Start();
        await listening.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(future.IsReady, Is.False, "still parked: nothing was published");
        a.WaitUntilSubscribed(1);
        Assert.That(PublishWhenReachable(b, "/stop/early"), Is.EqualTo("stop 1"));
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("done"));
    }

    [Test]
    public async Task RedisRestartedEmptyKeepsWaitersParkedAndReleasesThemOnceOnTheNextPublish()
    {
        using var redis = new RedisServer();
        using var a = new Instance(redis, poller);
        using var b = new Instance(redis, poller);
        // A publish before the restart gives the key a version that the restarted Redis no longer has.
        Assert.That(b.Get("/stop/empty?m=before").Text, Is.EqualTo("stop 0"));
        using RawClient onA = a.Send("/req/empty");
        using RawClient onB = b.Send("/req/empty");
        await a.WaitForFuture(1).Listening;
        await b.WaitForFuture(1).Listening;
        Assert.That(Instance.Eventually(() => a.Futures.ListeningKeyCount == 1 && b.Futures.ListeningKeyCount == 1), Is.True);

        // The version read that follows the first subscription is done: the next one is the reconnection's.
        Assert.That(Instance.Eventually(() => a.Futures.Registry.CatchUpCount >= 1), Is.True);
        int catchUpsBefore = a.Futures.Registry.CatchUpCount;
        redis.Restart();
        Assert.That(Instance.Eventually(() => a.Futures.Registry.CatchUpCount > catchUpsBefore, TimeSpan.FromSeconds(30)), Is.True,
            "instance A reconnected, resubscribed and read the key's version again");
        Assert.That(a.Made[0].IsReady, Is.False, "a version that vanished with the restart completes nobody");

        Assert.That(PublishWhenReachable(b, "/stop/empty?m=after"), Does.StartWith("stop "));
        Assert.That(onA.ReadResponse().Text, Is.EqualTo("after"));
        Assert.That(onB.ReadResponse().Text, Is.EqualTo("after"));
        // Answered once: the next response on each connection is the next request's, not a second "after".
        onA.Send("GET /req/next?timeout=1 HTTP/1.1\r\nHost: test\r\n\r\n");
        onB.Send("GET /req/next?timeout=1 HTTP/1.1\r\nHost: test\r\n\r\n");
        Assert.That(onA.ReadResponse().Text, Is.EqualTo("timeout"));
        Assert.That(onB.ReadResponse().Text, Is.EqualTo("timeout"));
        Assert.That(Instance.Eventually(() => a.Futures.WaitingCount == 0 && b.Futures.WaitingCount == 0), Is.True);
    }

    [Test]
    public async Task APublishWhileAnInstanceIsCutOffFromRedisIsCaughtUpWhenItReconnects()
    {
        using var redis = new RedisServer();
        using var a = new Instance(redis, poller);
        using var b = new Instance(redis, poller);
        using RawClient parked = a.Send("/req/cut");
        await a.WaitForFuture(1).Listening;
        a.WaitUntilSubscribed(1);

        // Redis stays up but drops every subscription connection: A hears nothing until it has reconnected, so a
        // publish right now reaches no subscriber; the version read after resubscribing catches it up.
        Assert.That(redis.TryCommand("CLIENT", "KILL", "TYPE", "pubsub"), Does.StartWith(":"));
        string published = b.Get("/stop/cut?m=while-cut").Text;
        TestContext.Out.WriteLine($"published while cut off: {published} (\"stop 0\": nobody subscribed, the catch-up answers it)");
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("while-cut"));
    }

    /// <summary>Publishes through the instance's /stop/, again while its own connection is not back yet (then nothing was sent).</summary>
    internal static string PublishWhenReachable(Instance instance, string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            RawResponse response = instance.Get(path);
            if (response.Status == 200 || DateTime.UtcNow > deadline) return response.Text;
            Assert.That(response.Text, Is.EqualTo("unreachable"), "never retried after an unconfirmed publish");
            Thread.Sleep(50);
        }
    }
}

/// <summary>
/// Redis down for 30 s with requests parked on two instances: they stay parked (a waiter with its own timeout
/// answers by it meanwhile), publishes fail at once, and when Redis comes back (empty) the instances reconnect,
/// resubscribe every live key and one publish per key answers each parked request once. The two pollers' runs
/// overlap (their fixtures run in parallel), so the suite pays the 30 s once.
/// </summary>
[TestFixtureSource(typeof(Pollers), nameof(Pollers.Kinds))]
[Parallelizable(ParallelScope.Self)]
public sealed class RedisOutageTests(PollerKind poller)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    [Test]
    [CancelAfter(120_000)]
    public async Task RedisDownFor30SecondsWithRequestsParked()
    {
        using var redis = new RedisServer();
        using var a = new Instance(redis, poller);
        using var b = new Instance(redis, poller);
        var clients = new List<RawClient>();
        for (int i = 0; i < 4; i++) clients.Add(a.Send(i % 2 == 0 ? "/req/first" : "/await/first"));
        for (int i = 0; i < 3; i++) clients.Add(b.Send(i % 2 == 0 ? "/req/second" : "/req/first"));
        foreach (KeyedFuture future in a.Made.Concat(b.Made)) await future.Listening;
        Assert.That(Instance.Eventually(() => a.Futures.ListeningKeyCount == 1 && b.Futures.ListeningKeyCount == 2), Is.True);

        Assert.That(Instance.Eventually(() => a.Futures.Registry.CatchUpCount >= 1 && b.Futures.Registry.CatchUpCount >= 2), Is.True,
            "the reads that follow the first subscriptions are done");
        int catchUpsA = a.Futures.Registry.CatchUpCount, catchUpsB = b.Futures.Registry.CatchUpCount;
        redis.Stop();
        using RawClient timed = a.Send("/req/first?timeout=500");
        Assert.That(timed.ReadResponse().Text, Is.EqualTo("timeout"), "a waiter's own timeout works without Redis");
        Assert.That(b.Get("/stop/first").Status, Is.EqualTo(503));
        await Task.Delay(Outage);
        Assert.That(a.App.ParkedRequestCount + b.App.ParkedRequestCount, Is.EqualTo(clients.Count), "everyone is still parked");
        Assert.That(a.Futures.WaitingCount + b.Futures.WaitingCount, Is.EqualTo(clients.Count));

        redis.Start();
        Assert.That(Instance.Eventually(() => a.Futures.Registry.CatchUpCount >= catchUpsA + 1 && b.Futures.Registry.CatchUpCount >= catchUpsB + 2,
            TimeSpan.FromSeconds(30)), Is.True, "both instances resubscribed every live key and read its version");
        Assert.That(redis.Subscribers("snow:first"), Is.EqualTo(2));
        Assert.That(redis.Subscribers("snow:second"), Is.EqualTo(1));

        Assert.That(RedisFaultTests.PublishWhenReachable(a, "/stop/first?m=back"), Is.EqualTo("stop 2"));
        Assert.That(RedisFaultTests.PublishWhenReachable(b, "/stop/second?m=back2"), Is.EqualTo("stop 1"));
        string[] bodies = [.. clients.Select(client => client.ReadResponse().Text)];
        Assert.That(bodies, Is.EqualTo(new[] { "back", "awaited back", "back", "awaited back", "back2", "back", "back2" }));
        foreach (RawClient client in clients)
        {
            client.Send("GET /req/next?timeout=1 HTTP/1.1\r\nHost: test\r\n\r\n");
            Assert.That(client.ReadResponse().Text, Is.EqualTo("timeout"), "answered once");
            client.Dispose();
        }
        Assert.That(Instance.Eventually(() => a.Futures.WaitingCount == 0 && b.Futures.WaitingCount == 0 && a.App.ParkedRequestCount == 0), Is.True);
    }
}
