using System.Net.Sockets;
using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;
using Snow.Native.PollerContract;

namespace Snow.Native.Tests.Loop;

[TestFixtureSource(typeof(Snow.Native.Tests.Polling.AvailablePollers), nameof(Snow.Native.Tests.Polling.AvailablePollers.Kinds))]
public sealed class EventLoopTests(PollerKind kind)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private EventLoop _loop = null!;
    private Thread _thread = null!;

    [SetUp]
    public void StartLoop()
    {
        _loop = new EventLoop(PollerFactory.Create(kind), $"test-{kind}");
        _thread = _loop.StartThread();
    }

    [TearDown]
    public void StopLoop()
    {
        _loop.Stop();
        Assert.That(_thread.Join(Patience), Is.True, "the loop thread should end after Stop");
        _loop.Dispose();
    }

    [Test]
    public void PostedWorkRunsOnTheLoopThreadInOrder()
    {
        var order = new List<int>();
        var threads = new HashSet<int>();
        using var done = new ManualResetEventSlim();
        for (int i = 0; i < 100; i++)
        {
            int n = i;
            _loop.Post(_ =>
            {
                order.Add(n);
                threads.Add(Environment.CurrentManagedThreadId);
                if (n == 99) done.Set();
            }, null);
        }
        Assert.That(done.Wait(Patience), Is.True);
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 100)));
        Assert.That(threads, Is.EquivalentTo(new[] { _thread.ManagedThreadId }));
    }

    [Test]
    public void TimersFireInOrderAndCancelledOnesDoNot()
    {
        var fired = new List<string>();
        using var done = new ManualResetEventSlim();
        _loop.Post(_ =>
        {
            _loop.Schedule(TimeSpan.FromMilliseconds(60), _ => fired.Add("60"), null);
            LoopTimer cancelled = _loop.Schedule(TimeSpan.FromMilliseconds(30), _ => fired.Add("cancelled"), null);
            _loop.Schedule(TimeSpan.FromMilliseconds(20), _ => fired.Add("20"), null);
            _loop.Schedule(TimeSpan.FromMilliseconds(100), _ => done.Set(), null);
            Assert.That(_loop.Cancel(cancelled), Is.True);
        }, null);
        Assert.That(done.Wait(Patience), Is.True);
        Assert.That(fired, Is.EqualTo(new[] { "20", "60" }));
    }

    [Test]
    public void ATimerDoesNotFireEarly()
    {
        long scheduledAt = 0, firedAt = 0;
        using var done = new ManualResetEventSlim();
        _loop.Post(_ =>
        {
            scheduledAt = EventLoop.ClockMilliseconds();
            _loop.Schedule(TimeSpan.FromMilliseconds(200), _ =>
            {
                firedAt = EventLoop.ClockMilliseconds();
                done.Set();
            }, null);
        }, null);
        Assert.That(done.Wait(Patience), Is.True);
        Assert.That(firedAt - scheduledAt, Is.GreaterThanOrEqualTo(200));
    }

    [Test]
    public void AwaitInsideTheLoopResumesOnTheLoopThread()
    {
        var seen = new List<int>();
        using var done = new ManualResetEventSlim();
        _loop.Post(async _ =>
        {
            seen.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(20);
            seen.Add(Environment.CurrentManagedThreadId);
            await Task.Run(() => Thread.Sleep(10));
            seen.Add(Environment.CurrentManagedThreadId);
            done.Set();
        }, null);
        Assert.That(done.Wait(Patience), Is.True);
        Assert.That(seen, Is.EqualTo(new[] { _thread.ManagedThreadId, _thread.ManagedThreadId, _thread.ManagedThreadId }));
    }

    [Test]
    public void AnIdleLoopSleepsInTheKernel()
    {
        TimeSpan cpuAtStart = default;
        TimeSpan cpuAtEnd = default;
        using var started = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        _loop.Post(_ =>
        {
            cpuAtStart = Libc.ThreadCpuTime();
            started.Set();
        }, null);
        Assert.That(started.Wait(Patience), Is.True);
        Thread.Sleep(500); // the loop has nothing to do meanwhile
        _loop.Post(_ =>
        {
            cpuAtEnd = Libc.ThreadCpuTime();
            done.Set();
        }, null);
        Assert.That(done.Wait(Patience), Is.True);
        Assert.That(cpuAtEnd - cpuAtStart, Is.LessThan(TimeSpan.FromMilliseconds(100)),
            "an idle loop thread must not burn CPU while it waits");
    }

    [Test]
    public void ReadinessReachesTheRegisteredHandler()
    {
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        var handler = new RecordingHandler();
        _loop.Post(_ => handler.Token = _loop.Register(pair.ServerFd, PollInterest.Read, handler), null);
        pair.Client.Send("hi"u8);
        Assert.That(handler.Readable.Wait(Patience), Is.True);
        using var unregistered = new ManualResetEventSlim();
        _loop.Post(_ =>
        {
            _loop.Unregister(pair.ServerFd, handler.Token);
            unregistered.Set();
        }, null);
        Assert.That(unregistered.Wait(Patience), Is.True);
        Assert.That(handler.ThreadId, Is.EqualTo(_thread.ManagedThreadId));
    }

    [Test]
    public void AThrowingCallbackDoesNotStopTheLoop()
    {
        using var after = new ManualResetEventSlim();
        _loop.Post(_ => throw new InvalidOperationException("boom"), null);
        _loop.Post(_ => _loop.Schedule(TimeSpan.Zero, _ => throw new InvalidOperationException("timer boom"), null), null);
        _loop.Post(_ => _loop.Schedule(TimeSpan.FromMilliseconds(10), _ => after.Set(), null), null);
        Assert.That(after.Wait(Patience), Is.True);
    }

    private sealed class RecordingHandler : IReadinessHandler
    {
        public long Token;
        public int ThreadId;
        public readonly ManualResetEventSlim Readable = new();

        public void OnReady(PollEvents events)
        {
            ThreadId = Environment.CurrentManagedThreadId;
            if ((events & PollEvents.Readable) != 0) Readable.Set();
        }
    }
}
