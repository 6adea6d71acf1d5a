using Snow.Native.Loop;

namespace Snow.Native.Tests.Loop;

public sealed class TimerHeapTests
{
    [Test]
    public void PopsInDueOrderAndSameDueInSchedulingOrder()
    {
        var heap = new TimerHeap();
        var fired = new List<string>();
        heap.Add(30, s => fired.Add((string)s!), "c");
        heap.Add(10, s => fired.Add((string)s!), "a1");
        heap.Add(20, s => fired.Add((string)s!), "b");
        heap.Add(10, s => fired.Add((string)s!), "a2");
        Assert.That(heap.NextDue, Is.EqualTo(10));
        while (heap.PopDue(100) is LoopTimer timer) timer.Callback(timer.State);
        Assert.That(fired, Is.EqualTo(new[] { "a1", "a2", "b", "c" }));
        Assert.That(heap.Count, Is.Zero);
        Assert.That(heap.NextDue, Is.Null);
    }

    [Test]
    public void OnlyDueTimersPop()
    {
        var heap = new TimerHeap();
        heap.Add(50, _ => { }, null);
        Assert.That(heap.PopDue(49), Is.Null);
        Assert.That(heap.PopDue(50), Is.Not.Null);
    }

    [Test]
    public void RandomAddsAndRemovesKeepTheOrder()
    {
        var random = new Random(1234);
        var heap = new TimerHeap();
        var live = new List<LoopTimer>();
        for (int i = 0; i < 5000; i++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                LoopTimer victim = live[random.Next(live.Count)];
                Assert.That(heap.Remove(victim), Is.True);
                Assert.That(heap.Remove(victim), Is.False, "a timer is removed once");
                live.Remove(victim);
            }
            else
            {
                live.Add(heap.Add(random.Next(1000), _ => { }, null));
            }
        }
        Assert.That(heap.Count, Is.EqualTo(live.Count));
        long previous = long.MinValue;
        int popped = 0;
        while (heap.PopDue(long.MaxValue) is LoopTimer timer)
        {
            Assert.That(timer.DueMilliseconds, Is.GreaterThanOrEqualTo(previous));
            Assert.That(timer.IsPending, Is.False);
            previous = timer.DueMilliseconds;
            popped++;
        }
        Assert.That(popped, Is.EqualTo(live.Count));
    }
}
