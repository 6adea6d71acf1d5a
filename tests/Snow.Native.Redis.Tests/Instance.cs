using System.Collections.Concurrent;
using System.Net;

namespace Snow.Native.Redis.Tests;

/// <summary>
/// One server instance: a <see cref="SnowApp"/> on a free port with its own <see cref="RedisFutures"/> (its own
/// connection to Redis), as one process of a scaled-out app would be. Several of them on one Redis are the
/// instances behind a load balancer.
/// </summary>
internal sealed class Instance : IDisposable
{
    private readonly ConcurrentQueue<KeyedFuture> _made = new();

    public Instance(RedisServer redis, PollerKind poller, Action<RedisFuturesOptions>? configure = null)
    {
        var options = new RedisFuturesOptions { UnsubscribeDelay = TimeSpan.Zero, RetryInterval = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        Futures = RedisFutures.ConnectAsync(redis.Configuration, options).GetAwaiter().GetResult();
        App = new SnowApp(
            [
                ("^/req/(?<key>[a-z0-9-]+)$", Park),
                ("^/await/(?<key>[a-z0-9-]+)$", AwaitPublish),
                ("^/stop/(?<key>[a-z0-9-]+)$", Publish),
            ],
            new SnowOptions { Poller = poller, Loops = 1, ShutdownTimeout = TimeSpan.Zero });
        App.Start("127.0.0.1", 0);
    }

    public RedisFutures Futures { get; }

    public SnowApp App { get; }

    public IPEndPoint EndPoint => App.LocalEndPoint!;

    /// <summary>Every keyed future the handlers made, in order.</summary>
    public KeyedFuture[] Made => [.. _made];

    /// <summary>Parks on the key; answers the message, or "timeout" (?timeout=ms).</summary>
    private IEnumerable<Step> Park(HttpRequest request)
    {
        string key = request.RouteValues["key"];
        TimeSpan? timeout = request.Query["timeout"] is string ms ? TimeSpan.FromMilliseconds(int.Parse(ms, System.Globalization.CultureInfo.InvariantCulture)) : null;
        KeyedFuture future = Futures.Wait(key, (r, f) => new HttpResponse(f.IsTimedOut ? "timeout" : f.Result ?? "null"), timeout);
        _made.Enqueue(future);
        yield return future;
    }

    /// <summary>The async kind: awaits the key with the request's abort token.</summary>
    private async Task<HttpResponse> AwaitPublish(HttpRequest request)
    {
        KeyedFuture future = Futures.Wait(request.RouteValues["key"], cancellationToken: request.Aborted);
        _made.Enqueue(future);
        string? message = await future;
        return new HttpResponse("awaited " + message);
    }

    /// <summary>Publishes ?m= (default "done") to the key; answers how many instances heard it, or 503 when Redis did not confirm.</summary>
    private async Task<HttpResponse> Publish(HttpRequest request)
    {
        try
        {
            long receivers = await Futures.PublishAsync(request.RouteValues["key"], request.Query["m"] ?? "done");
            return new HttpResponse($"stop {receivers}");
        }
        catch (KeyedPublishException e)
        {
            return new HttpResponse(e.MayHaveBeenDelivered ? "unconfirmed" : "unreachable", 503);
        }
    }

    /// <summary>Sends a GET and leaves the response to be read later (a parked request).</summary>
    public RawClient Send(string path)
    {
        var client = new RawClient(EndPoint, TimeSpan.FromSeconds(60));
        client.Send($"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
        return client;
    }

    public RawResponse Get(string path)
    {
        using RawClient client = Send(path);
        return client.ReadResponse();
    }

    /// <summary>Waits (bounded) until this instance has made <paramref name="count"/> futures, and returns the last.</summary>
    public KeyedFuture WaitForFuture(int count)
    {
        Assert.That(Eventually(() => _made.Count >= count), Is.True, $"{count} keyed futures made");
        return Made[count - 1];
    }

    /// <summary>
    /// Waits (bounded) until Redis confirmed this instance's subscription to <paramref name="keys"/> keys: a publish
    /// then counts this instance among its receivers. (A waiter is served without it too: the version read after
    /// subscribing catches a publish that came first; only the receiver count that tests assert needs it.)
    /// </summary>
    public void WaitUntilSubscribed(int keys) =>
        Assert.That(Eventually(() => Futures.ListeningKeyCount >= keys), Is.True, $"{keys} key(s) subscribed");

    public static bool Eventually(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(10);
        }
        return condition();
    }

    public void Dispose()
    {
        App.Dispose();
        Futures.Dispose();
    }
}
