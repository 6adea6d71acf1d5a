using System.Runtime.CompilerServices;
using Snow.Native.Loop;
using Snow.Native.Polling;

namespace Snow.Native.Tests.Futures;

/// <summary>
/// The future on its own, without a server: the three ways to complete it (first wins), what reading the result
/// does after each, the typed kind, waiters told once on the completing thread, and TimeoutFuture.
/// </summary>
public sealed class FutureTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Test]
    public void TheFirstCompletionWinsWhateverItsKind()
    {
        var succeeded = new Future();
        Assert.Multiple(() =>
        {
            Assert.That(succeeded.SetResult("first"), Is.True);
            Assert.That(succeeded.SetResult("second"), Is.False);
            Assert.That(succeeded.SetException(new InvalidOperationException()), Is.False);
            Assert.That(succeeded.SetCanceled(), Is.False);
            Assert.That(succeeded.Result, Is.EqualTo("first"));
            Assert.That((succeeded.IsReady, succeeded.IsFaulted, succeeded.IsCanceled), Is.EqualTo((true, false, false)));
            Assert.That(succeeded.Exception, Is.Null);
        });

        var faulted = new Future();
        var failure = new InvalidOperationException("first");
        Assert.Multiple(() =>
        {
            Assert.That(faulted.SetException(failure), Is.True);
            Assert.That(faulted.SetResult("late"), Is.False);
            Assert.That(faulted.SetCanceled(), Is.False);
            Assert.That(faulted.SetException(new InvalidOperationException("second")), Is.False);
            Assert.That(faulted.Exception, Is.SameAs(failure));
        });

        var canceled = new Future<int>();
        Assert.Multiple(() =>
        {
            Assert.That(canceled.SetCanceled(), Is.True);
            Assert.That(canceled.SetResult(1), Is.False);
            Assert.That(canceled.SetException(new InvalidOperationException()), Is.False);
            Assert.That(canceled.IsCanceled, Is.True);
        });
    }

    [Test]
    public void AFaultedFutureIsReadyAndReadingItsResultThrowsTheExceptionWithItsStackTrace()
    {
        var future = new Future((request, f) => new HttpResponse("unused"));
        Exception failure = CaughtFromBackend();
        Assert.That(future.SetException(failure), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That((future.IsReady, future.IsFaulted, future.IsCanceled), Is.EqualTo((true, true, false)));
            Assert.That(future.Exception, Is.SameAs(failure));
            var thrown = Assert.Throws<InvalidOperationException>(() => _ = future.Result);
            Assert.That(thrown, Is.SameAs(failure));
            Assert.That(thrown!.StackTrace, Does.Contain(nameof(ThrowFromBackend)), "the stack of the original throw is kept");
            Assert.Throws<InvalidOperationException>(() => future.GetResult<string>());
            Assert.Throws<InvalidOperationException>(() => future.GetAwaiter().GetResult());
        });
    }

    [Test]
    public void ACanceledFutureIsReadyAndReadingItsResultThrowsOperationCanceled()
    {
        using var source = new CancellationTokenSource();
        var future = new Future();
        Assert.That(future.SetCanceled(source.Token), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That((future.IsReady, future.IsFaulted, future.IsCanceled), Is.EqualTo((true, false, true)));
            Assert.That(future.Exception, Is.InstanceOf<OperationCanceledException>());
            var thrown = Assert.Throws<OperationCanceledException>(() => _ = future.Result);
            Assert.That(thrown!.CancellationToken, Is.EqualTo(source.Token));
            Assert.Throws<OperationCanceledException>(() => future.GetAwaiter().GetResult());
        });
    }

    [Test]
    public void SetExceptionRefusesNull()
    {
        var future = new Future();
        Assert.Throws<ArgumentNullException>(() => future.SetException(null!));
        Assert.That(future.IsReady, Is.False);
    }

    [Test]
    public void APendingFutureHasNoResultUntypedAndRefusesTheTypedRead()
    {
        var untyped = new Future();
        var typed = new Future<int>();
        Assert.Multiple(() =>
        {
            Assert.That(untyped.Result, Is.Null, "the seed's Future: null until ready");
            Assert.That(((Future)typed).Result, Is.Null);
            Assert.Throws<InvalidOperationException>(() => _ = typed.Result, "0 would pass for a real int");
            Assert.That(typed.Exception, Is.Null);
        });
    }

    [Test]
    public void ATypedFutureKeepsItsValueAsATAndAsAnObject()
    {
        var future = new Future<int>();
        Assert.That(future.SetResult(42), Is.True);
        Future untyped = future;
        Assert.Multiple(() =>
        {
            Assert.That(future.Result, Is.EqualTo(42));
            Assert.That(untyped.Result, Is.EqualTo(42));
            Assert.That(untyped.GetResult<int>(), Is.EqualTo(42));
            Assert.That(future.GetAwaiter().GetResult(), Is.EqualTo(42));
        });
    }

    [Test]
    public void ATypedFutureTakesOnlyATThroughTheUntypedSetResult()
    {
        var numbers = new Future<int>();
        Future untyped = numbers;
        Assert.Throws<ArgumentException>(() => untyped.SetResult("42"));
        Assert.Throws<ArgumentException>(() => untyped.SetResult(null), "null is no int");
        Assert.Throws<ArgumentException>(() => numbers.SetResult(), "nor is nothing");
        Assert.That(numbers.IsReady, Is.False, "a refused value completes nothing");
        Assert.That(untyped.SetResult(7), Is.True);
        Assert.That(numbers.Result, Is.EqualTo(7));

        var texts = new Future<string?>();
        Assert.That(texts.SetResult(), Is.True, "null is a string");
        Assert.That(texts.Result, Is.Null);
    }

    [Test]
    public void ATypedCallbackReceivesTheTypedFuture()
    {
        var future = new Future<string>((request, typed) => new HttpResponse(typed.Result.ToUpperInvariant()));
        future.SetResult("done");
        var response = (HttpResponse)future.Callback!(null!, future); // as the server calls it, with the untyped future
        Assert.That(response.Text, Is.EqualTo("DONE"));
        Assert.That(new Future<string>().Callback, Is.Null);
        Assert.That(new Future<string>(null).Callback, Is.Null);
    }

    [Test]
    public async Task AwaitingATypedFutureYieldsTheValueSetOnAnotherThread()
    {
        var future = new Future<int>();
        var completer = new Thread(() => future.SetResult(41));
        Task<int> awaiting = AwaitPlusOne(future);
        completer.Start();
        Assert.That(await awaiting.WaitAsync(Patience), Is.EqualTo(42));

        static async Task<int> AwaitPlusOne(Future<int> future) => await future + 1;
    }

    [Test]
    public void AwaitingAFaultedOrCanceledFutureThrows()
    {
        var faulted = new Future<int>();
        var canceled = new Future<int>();
        Task<int> awaitingFaulted = Await(faulted);
        Task<int> awaitingCanceled = Await(canceled);
        new Thread(() =>
        {
            faulted.SetException(new TimeoutException("backend"));
            canceled.SetCanceled();
        }).Start();
        Assert.ThrowsAsync<TimeoutException>(() => awaitingFaulted.WaitAsync(Patience));
        Assert.ThrowsAsync<OperationCanceledException>(() => awaitingCanceled.WaitAsync(Patience));

        static async Task<int> Await(Future<int> future) => await future;
    }

    [TestCase("result")]
    [TestCase("exception")]
    [TestCase("cancel")]
    public void AWaiterIsToldOnceOnTheCompletingThread(string how)
    {
        var future = new Future<string>();
        var first = new RecordingWaiter();
        var second = new RecordingWaiter();
        Assert.That(future.TryAddWaiter(first) && future.TryAddWaiter(second), Is.True);

        int completingThread = 0;
        var completer = new Thread(() =>
        {
            completingThread = Environment.CurrentManagedThreadId;
            Complete(future, how);
            Complete(future, how); // loses: nobody hears of it
        });
        completer.Start();
        Assert.That(completer.Join(Patience), Is.True);

        Assert.Multiple(() =>
        {
            foreach (RecordingWaiter waiter in new[] { first, second })
            {
                Assert.That(waiter.Calls, Is.EqualTo(1));
                Assert.That(waiter.Thread, Is.EqualTo(completingThread));
                Assert.That(waiter.SawReady, Is.True, "the future is ready when its waiters hear of it");
            }
            Assert.That(future.TryAddWaiter(new RecordingWaiter()), Is.False, "a ready future takes no more waiters");
        });
    }

    [Test]
    public void RacingCompletionsHaveExactlyOneWinnerAndOneNotification()
    {
        for (int round = 0; round < 200; round++)
        {
            var future = new Future<int>();
            var waiter = new RecordingWaiter();
            future.TryAddWaiter(waiter);
            int winners = 0;
            using var start = new Barrier(3);
            Thread[] racers =
            [
                new(() => { start.SignalAndWait(); if (future.SetResult(round)) Interlocked.Increment(ref winners); }),
                new(() => { start.SignalAndWait(); if (future.SetException(new InvalidOperationException())) Interlocked.Increment(ref winners); }),
                new(() => { start.SignalAndWait(); if (future.SetCanceled()) Interlocked.Increment(ref winners); }),
            ];
            foreach (Thread racer in racers) racer.Start();
            foreach (Thread racer in racers) Assert.That(racer.Join(Patience), Is.True);
            Assert.That((winners, waiter.Calls), Is.EqualTo((1, 1)), $"round {round}");
            Assert.That(new[] { future.IsFaulted, future.IsCanceled, future is { IsFaulted: false, IsCanceled: false } }.Count(b => b), Is.EqualTo(1));
        }
    }

    [Test]
    public void TheCompletionHookRunsOnceForEveryKindOfCompletion()
    {
        var succeeded = new CountingFuture();
        succeeded.SetResult(1);
        succeeded.SetResult(2);
        var faulted = new CountingFuture();
        faulted.SetException(new InvalidOperationException());
        faulted.SetCanceled();
        var canceled = new CountingFuture();
        canceled.SetCanceled();
        canceled.SetResult(3);
        Assert.That((succeeded.Completions, faulted.Completions, canceled.Completions), Is.EqualTo((1, 1, 1)));
    }

    [Test]
    public void ATimeoutFutureMadeOffTheLoopBecomesReadyByItself()
    {
        var future = new TimeoutFuture(TimeSpan.FromMilliseconds(30));
        Assert.That(future.IsReady, Is.False);
        Assert.That(SpinWait.SpinUntil(() => future.IsReady, Patience), Is.True);
        Assert.That(future.Result, Is.EqualTo(TimeSpan.FromMilliseconds(30)));
        Assert.That(future.IsFaulted || future.IsCanceled, Is.False);
    }

    [Test]
    public void ACanceledTimeoutFutureStaysCanceledAfterItsDelay()
    {
        var future = new TimeoutFuture(TimeSpan.FromMilliseconds(30));
        Assert.That(future.SetCanceled(), Is.True);
        Thread.Sleep(100);
        Assert.That(future.IsCanceled, Is.True, "the timer, which fired or was stopped, did not overwrite the cancellation");
        Assert.Throws<OperationCanceledException>(() => _ = future.Result);
    }

    [Test]
    public void ATimeoutFutureOnALoopIsATimerThatACancellationFromAnotherThreadRemoves()
    {
        using var loop = new EventLoop(PollerFactory.Create(), "future-test");
        Thread thread = loop.StartThread();
        try
        {
            TimeoutFuture? longOne = null;
            TimeoutFuture? shortOne = null;
            using var made = new ManualResetEventSlim();
            loop.Post(_ =>
            {
                longOne = new TimeoutFuture(30);
                shortOne = new TimeoutFuture(0.02);
                made.Set();
            }, null);
            Assert.That(made.Wait(Patience), Is.True);
            Assert.That(SpinWait.SpinUntil(() => shortOne!.IsReady, Patience), Is.True, "the short one fires by itself");
            Assert.That(shortOne!.Result, Is.EqualTo(TimeSpan.FromSeconds(0.02)));
            Assert.That(SpinWait.SpinUntil(() => loop.TimerCount == 1, Patience), Is.True, "the long one is the loop's only timer");

            Assert.That(longOne!.SetCanceled(), Is.True);
            Assert.That(SpinWait.SpinUntil(() => loop.TimerCount == 0, Patience), Is.True, "its timer is cancelled on the loop");
            Assert.That(longOne.IsCanceled, Is.True);
        }
        finally
        {
            loop.Stop();
            thread.Join(Patience);
        }
    }

    [Test]
    public void TypedAndUntypedFuturesAreSteps()
    {
        Step typed = new Future<int>();
        Step untyped = new Future();
        Assert.That(typed.Future, Is.InstanceOf<Future<int>>());
        Assert.That(untyped.Future, Is.Not.Null);
    }

    private static void Complete(Future<string> future, string how)
    {
        switch (how)
        {
            case "result": future.SetResult("value"); break;
            case "exception": future.SetException(new InvalidOperationException()); break;
            default: future.SetCanceled(); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowFromBackend() => throw new InvalidOperationException("the backend failed");

    private static Exception CaughtFromBackend()
    {
        try
        {
            ThrowFromBackend();
        }
        catch (Exception e)
        {
            return e;
        }
        throw new AssertionException("unreachable");
    }

    private sealed class RecordingWaiter : IFutureWaiter
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public int Thread { get; private set; }

        public bool SawReady { get; private set; }

        public void OnFutureReady(Future future)
        {
            Thread = Environment.CurrentManagedThreadId;
            SawReady = future.IsReady;
            Interlocked.Increment(ref _calls);
        }
    }

    private sealed class CountingFuture : Future
    {
        public int Completions { get; private set; }

        protected override void OnCompleted() => Completions++;
    }
}
