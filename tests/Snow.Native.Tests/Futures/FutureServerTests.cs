using System.Collections.Concurrent;
using Snow.Native.Tests.Polling;
using Snow.Native.Tests.Server;

namespace Snow.Native.Tests.Futures;

/// <summary>
/// Futures over a real socket, per poller: a typed future's value answers an awaiting handler, and a future that
/// fails or is canceled answers its parked request with a 500 (whichever handler kind parked it) while the server
/// goes on serving, on the same connection too.
/// </summary>
[TestFixtureSource(typeof(AvailablePollers), nameof(AvailablePollers.Kinds))]
[NonParallelizable]
public sealed class FutureServerTests(PollerKind poller)
{
    private readonly ConcurrentQueue<Future> _waiting = new();
    private RunningServer _server = null!;

    private Route[] Routes() =>
    [
        ("^/ok$", (HttpRequest r) => new HttpResponse("ok")),
        ("^/await-typed$", AwaitTyped),
        ("^/callback$", ParkWithCallback),
        ("^/resume$", ParkAndResume),
        ("^/timeout$", ParkOnTimeout),
    ];

    // async: the awaited Future<int> yields an int, or throws what the future failed with.
    private async ValueTask<HttpResponse> AwaitTyped(HttpRequest request)
    {
        var future = new Future<int>();
        _waiting.Enqueue(future);
        int value = await future;
        return new HttpResponse($"value {value}");
    }

    // iterator, the seed's way: the callback makes the response and reads the result.
    private IEnumerable<Step> ParkWithCallback(HttpRequest request)
    {
        var future = new Future<string>((r, f) => new HttpResponse("callback " + f.Result));
        _waiting.Enqueue(future);
        yield return future;
    }

    // iterator without a callback: it resumes and reads the result itself.
    private IEnumerable<Step> ParkAndResume(HttpRequest request)
    {
        var future = new Future<string>();
        _waiting.Enqueue(future);
        yield return future;
        yield return new HttpResponse("resumed " + future.Result);
    }

    // A TimeoutFuture made on the loop, which the test cancels long before its delay.
    private IEnumerable<Step> ParkOnTimeout(HttpRequest request)
    {
        var future = new TimeoutFuture(30);
        _waiting.Enqueue(future);
        yield return future;
        yield return new HttpResponse($"waited {future.Result}");
    }

    [SetUp]
    public void Start()
    {
        _waiting.Clear();
        _server = new RunningServer(Routes(), poller, loops: 2);
    }

    [TearDown]
    public void StopServer() => _server.Dispose();

    /// <summary>Sends a request that parks, and returns its client and the future it parked on.</summary>
    private (TestClient Client, TFuture Future) Park<TFuture>(string path) where TFuture : Future
    {
        TestClient client = _server.Connect();
        client.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 1), Is.True, "the request parks");
        Assert.That(_waiting.TryDequeue(out Future? future), Is.True);
        Assert.That(client.IsSilentFor(TimeSpan.FromMilliseconds(50)), Is.True, "a parked request gets no answer yet");
        return (client, (TFuture)future!);
    }

    /// <summary>Completes <paramref name="complete"/> on a thread of its own, as a producer elsewhere would.</summary>
    private static void OnAnotherThread(Action complete)
    {
        var thread = new Thread(() => complete());
        thread.Start();
        Assert.That(thread.Join(TimeSpan.FromSeconds(10)), Is.True);
    }

    /// <summary>The parked request got its 500; then the same connection and a new one are served as usual.</summary>
    private void AssertAnswered500AndServerGoesOn(TestClient client)
    {
        WireResponse response = client.ReadResponse();
        Assert.That(response.Status, Is.EqualTo(500));
        Assert.That(RunningServer.Eventually(() => _server.App.ParkedRequestCount == 0), Is.True, "nothing stays parked");
        client.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(client.ReadResponse().Text, Is.EqualTo("ok"), "the connection goes on after the 500");
        using TestClient other = _server.Connect();
        other.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(other.ReadResponse().Text, Is.EqualTo("ok"), "and so does the server");
    }

    [Test]
    public void AnAsyncHandlerAwaitingATypedFutureAnswersWithItsValue()
    {
        (TestClient client, Future<int> future) = Park<Future<int>>("/await-typed");
        using (client)
        {
            bool won = false;
            OnAnotherThread(() => won = future.SetResult(42));
            Assert.That(won, Is.True);
            WireResponse response = client.ReadResponse();
            Assert.That((response.Status, response.Text), Is.EqualTo((200, "value 42")));
        }
    }

    [Test]
    public void AnAwaitedFutureThatFailsAnswers500()
    {
        (TestClient client, Future<int> future) = Park<Future<int>>("/await-typed");
        using (client)
        {
            OnAnotherThread(() => future.SetException(new TimeoutException("the backend did not answer")));
            AssertAnswered500AndServerGoesOn(client);
        }
    }

    [Test]
    public void AnAwaitedFutureThatIsCanceledAnswers500()
    {
        (TestClient client, Future<int> future) = Park<Future<int>>("/await-typed");
        using (client)
        {
            OnAnotherThread(() => future.SetCanceled());
            AssertAnswered500AndServerGoesOn(client);
        }
    }

    [Test]
    public void AFutureWithACallbackAnswersWithItsValueAndA500WhenItFails()
    {
        (TestClient first, Future<string> succeeding) = Park<Future<string>>("/callback");
        using (first)
        {
            OnAnotherThread(() => succeeding.SetResult("done"));
            Assert.That(first.ReadResponse().Text, Is.EqualTo("callback done"));
        }
        (TestClient second, Future<string> failing) = Park<Future<string>>("/callback");
        using (second)
        {
            OnAnotherThread(() => failing.SetException(new InvalidOperationException("no value")));
            AssertAnswered500AndServerGoesOn(second);
        }
        (TestClient third, Future<string> canceled) = Park<Future<string>>("/callback");
        using (third)
        {
            OnAnotherThread(() => canceled.SetCanceled());
            AssertAnswered500AndServerGoesOn(third);
        }
    }

    [Test]
    public void AnIteratorThatResumesAndReadsAFailedResultAnswers500()
    {
        (TestClient first, Future<string> succeeding) = Park<Future<string>>("/resume");
        using (first)
        {
            OnAnotherThread(() => succeeding.SetResult("fine"));
            Assert.That(first.ReadResponse().Text, Is.EqualTo("resumed fine"));
        }
        (TestClient second, Future<string> failing) = Park<Future<string>>("/resume");
        using (second)
        {
            OnAnotherThread(() => failing.SetException(new InvalidOperationException("no value")));
            AssertAnswered500AndServerGoesOn(second);
        }
        (TestClient third, Future<string> canceled) = Park<Future<string>>("/resume");
        using (third)
        {
            OnAnotherThread(() => canceled.SetCanceled());
            AssertAnswered500AndServerGoesOn(third);
        }
    }

    [Test]
    public void ATimeoutFutureCanceledBeforeItsDelayAnswers500AtOnce()
    {
        (TestClient client, TimeoutFuture future) = Park<TimeoutFuture>("/timeout");
        using (client)
        {
            OnAnotherThread(() => future.SetCanceled());
            AssertAnswered500AndServerGoesOn(client);
        }
    }
}
