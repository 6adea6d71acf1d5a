
namespace Snow.Native.Redis.Tests;

/// <summary>
/// Keyed futures across two instances on one real redis-server, per poller: a publish on one completes every
/// request waiting on the key on both; subscriptions are counted per process; no wake-up is lost to a publish
/// racing the subscription, and none comes from a publish made before the wait; timeouts, a client leaving and a
/// cancellation free the key.
/// </summary>
[TestFixtureSource(typeof(Pollers), nameof(Pollers.Kinds))]
[NonParallelizable]
public sealed class KeyedFutureTests(PollerKind poller)
{
    private RedisServer _redis = null!;
    private Instance _a = null!;
    private Instance _b = null!;

    [OneTimeSetUp]
    public void StartRedis() => _redis = new RedisServer();

    [OneTimeTearDown]
    public void StopRedis() => _redis?.Dispose();

    [SetUp]
    public void StartInstances()
    {
        _a = new Instance(_redis, poller);
        _b = new Instance(_redis, poller);
    }

    [TearDown]
    public void StopInstances()
    {
        _a?.Dispose();
        _b?.Dispose();
    }

    [Test]
    public async Task ARequestParkedOnOneInstanceIsCompletedByAPublishOnTheOther()
    {
        using RawClient parked = _a.Send("/req/one");
        await _a.WaitForFuture(1).Listening;
        _a.WaitUntilSubscribed(1);
        Assert.That(_b.Get("/stop/one").Text, Is.EqualTo("stop 1"), "one instance listens to the key");
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("done"));
        Assert.That(Instance.Eventually(() => _a.App.ParkedRequestCount == 0 && _a.Futures.WaitingCount == 0), Is.True);
    }

    [Test]
    public async Task OnePublishCompletesEveryWaiterOnTheKeyOnEveryInstanceAndNoOther()
    {
        var clients = new List<RawClient>();
        for (int i = 0; i < 3; i++) clients.Add(_a.Send("/req/many"));
        for (int i = 0; i < 2; i++) clients.Add(_b.Send(i == 0 ? "/req/many" : "/await/many"));
        using RawClient other = _b.Send("/req/other");
        foreach (KeyedFuture future in _a.Made.Concat(_b.Made)) await future.Listening;
        Assert.That(Instance.Eventually(() => _a.Futures.WaitingCount == 3 && _b.Futures.WaitingCount == 3), Is.True);
        _a.WaitUntilSubscribed(1);
        _b.WaitUntilSubscribed(2);

        Assert.That(_a.Get("/stop/many?m=go").Text, Is.EqualTo("stop 2"), "both instances listen to the key");
        string[] bodies = [.. clients.Select(client => client.ReadResponse().Text)];
        Assert.That(bodies, Is.EqualTo(new[] { "go", "go", "go", "go", "awaited go" }));
        Assert.That(Instance.Eventually(() => _b.Futures.WaitingCount == 1), Is.True, "the other key still waits");
        Assert.That(_b.Made.Single(f => f.Key == "other").IsReady, Is.False);
        clients.ForEach(client => client.Dispose());
    }

    [Test]
    public async Task TheFirstLocalWaiterSubscribesAndTheLastUnsubscribes()
    {
        Assert.That(_redis.Subscribers("snow:count"), Is.EqualTo(0));
        using RawClient first = _a.Send("/req/count");
        using RawClient second = _a.Send("/req/count");
        await _a.WaitForFuture(2).Listening;
        Assert.That(Instance.Eventually(() => _a.Futures.ListeningKeyCount == 1), Is.True);
        Assert.That(_redis.Subscribers("snow:count"), Is.EqualTo(1), "two waiters, one subscription");

        first.Dispose(); // the client leaves: its future is dropped, the subscription stays for the second
        Assert.That(Instance.Eventually(() => _a.Futures.WaitingCount == 1), Is.True);
        Assert.That(_redis.Subscribers("snow:count"), Is.EqualTo(1));

        second.Dispose();
        Assert.That(Instance.Eventually(() => _a.Futures.WaitingCount == 0 && _redis.Subscribers("snow:count") == 0), Is.True,
            "the last waiter gone, the key is unsubscribed");
        Assert.That(Instance.Eventually(() => _a.Futures.ListeningKeyCount == 0), Is.True);
    }

    [Test]
    public async Task WithAnUnsubscribeDelayAReturningWaiterReusesTheSubscriptionAndTheLastOneStillUnsubscribes()
    {
        using var lingering = new Instance(_redis, poller, options => options.UnsubscribeDelay = TimeSpan.FromMilliseconds(300));
        using (RawClient first = lingering.Send("/req/linger"))
        {
            await lingering.WaitForFuture(1).Listening;
            lingering.WaitUntilSubscribed(1);
            Assert.That(_b.Get("/stop/linger?m=one").Text, Is.EqualTo("stop 1"));
            Assert.That(first.ReadResponse().Text, Is.EqualTo("one"));
            // The long-poller comes straight back: it joins the key that is still subscribed and is served by it.
            first.Send("GET /req/linger HTTP/1.1\r\nHost: test\r\n\r\n");
            await lingering.WaitForFuture(2).Listening;
            lingering.WaitUntilSubscribed(1);
            Assert.That(_b.Get("/stop/linger?m=two").Text, Is.EqualTo("stop 1"));
            Assert.That(first.ReadResponse().Text, Is.EqualTo("two"));
        }
        Assert.That(Instance.Eventually(() => lingering.Futures.WaitingCount == 0 && _redis.Subscribers("snow:linger") == 0), Is.True,
            "after the delay the key is unsubscribed");
    }

    [Test]
    public async Task APublishBetweenTheVersionReadAndTheSubscriptionIsNotLost()
    {
        // The race: the waiter's instance has read the key's version but Redis has not subscribed it yet when the
        // other instance publishes. The message goes to nobody; the version read after subscribing catches it.
        long? receivers = null;
        _a.Futures.Registry.BeforeSubscribe = async key => receivers = await _b.Futures.PublishAsync(key, "raced");
        using RawClient parked = _a.Send("/req/race");
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("raced"));
        Assert.That(receivers, Is.EqualTo(0), "nobody was subscribed when it was published");
    }

    [Test]
    public async Task APublishMadeBeforeTheWaitDoesNotCompleteIt()
    {
        Assert.That(_b.Get("/stop/before?m=old").Text, Is.EqualTo("stop 0"));
        using RawClient parked = _a.Send("/req/before");
        await _a.WaitForFuture(1).Listening;
        Assert.That(Instance.Eventually(() => _a.Futures.ListeningKeyCount == 1), Is.True);
        Assert.That(_b.Get("/stop/before?m=new").Text, Is.EqualTo("stop 1"));
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("new"), "the old publish did not answer it");
    }

    [Test]
    public void AWaiterTimesOutByItsOwnTimeoutAndLeavesTheKey()
    {
        using RawClient parked = _a.Send("/req/late?timeout=200");
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("timeout"));
        KeyedFuture future = _a.Made.Single();
        Assert.That(future.IsTimedOut, Is.True);
        Assert.That(future.Result, Is.Null);
        Assert.That(Instance.Eventually(() => _a.Futures.WaitingCount == 0 && _redis.Subscribers("snow:late") == 0), Is.True);
    }

    [Test]
    public void AnAwaitingHandlerWhoseClientLeavesFreesTheKey()
    {
        RawClient parked = _a.Send("/await/gone");
        KeyedFuture future = _a.WaitForFuture(1);
        parked.Dispose();
        Assert.That(Instance.Eventually(() => future.IsCanceled), Is.True, "request.Aborted canceled the wait");
        Assert.That(Instance.Eventually(() => _a.Futures.WaitingCount == 0 && _redis.Subscribers("snow:gone") == 0), Is.True);
    }

    [Test]
    public async Task AStandingListenerHearsEveryPublishUntilDisposed()
    {
        var heard = new System.Collections.Concurrent.BlockingCollection<string>();
        IDisposable listener = _a.Futures.Subscribe("topic", heard.Add);
        Assert.That(Instance.Eventually(() => _redis.Subscribers("snow:topic") == 1), Is.True);
        await _b.Futures.PublishAsync("topic", "one");
        await _b.Futures.PublishAsync("topic", "two");
        Assert.That(heard.TryTake(out string? first, 10_000) ? first : null, Is.EqualTo("one"));
        Assert.That(heard.TryTake(out string? second, 10_000) ? second : null, Is.EqualTo("two"));
        listener.Dispose();
        Assert.That(Instance.Eventually(() => _redis.Subscribers("snow:topic") == 0), Is.True);
    }

    [Test]
    public async Task AListenerHearsEveryOneOfManyPublishesInOrder()
    {
        const int count = 500;
        var heard = new List<string>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using IDisposable listener = _a.Futures.Subscribe("burst", message =>
        {
            lock (heard)
            {
                heard.Add(message);
                if (heard.Count == count) all.TrySetResult();
            }
        });
        Assert.That(Instance.Eventually(() => _a.Futures.ListeningKeyCount == 1), Is.True);
        // Pipelined: the messages arrive back to back, which the client would hand to pool threads concurrently.
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => _b.Futures.PublishAsync("burst", i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (heard) Assert.That(heard, Is.EqualTo(Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Test]
    public async Task ThePrefixKeepsAppsThatShareARedisApart()
    {
        using var otherApp = new Instance(_redis, poller, options => options.ChannelPrefix = "other-app:");
        using RawClient parked = _a.Send("/req/shared");
        using RawClient otherParked = otherApp.Send("/req/shared");
        await _a.WaitForFuture(1).Listening;
        await otherApp.WaitForFuture(1).Listening;
        _a.WaitUntilSubscribed(1);
        otherApp.WaitUntilSubscribed(1);
        Assert.That(_b.Get("/stop/shared?m=mine").Text, Is.EqualTo("stop 1"));
        Assert.That(parked.ReadResponse().Text, Is.EqualTo("mine"));
        Assert.That(otherApp.Made.Single().IsReady, Is.False, "the other app's waiter did not hear it");
        Assert.That(otherApp.Get("/stop/shared?m=theirs").Text, Is.EqualTo("stop 1"));
        Assert.That(otherParked.ReadResponse().Text, Is.EqualTo("theirs"));
    }

    [Test]
    public void DisposingCancelsWhatStillWaits()
    {
        using RawClient parked = _a.Send("/req/disposed");
        KeyedFuture future = _a.WaitForFuture(1);
        _a.Futures.Dispose();
        Assert.That(future.IsCanceled, Is.True);
        Assert.That(parked.ReadResponse().Status, Is.EqualTo(500));
        Assert.Throws<ObjectDisposedException>(() => _a.Futures.Wait("disposed"));
    }
}

public static class Pollers
{
    public static IEnumerable<PollerKind> Kinds => Snow.Native.Polling.PollerFactory.Available;
}
