using System.Diagnostics;
using System.Net.Sockets;
using Snow.Native.Interop;
using Snow.Native.Polling;

namespace Snow.Native.PollerContract;

/// <summary>
/// The IPoller contract, as checks that throw <see cref="ContractFailure"/>. Every check runs against a real poller
/// and real TCP sockets on 127.0.0.1. Waits that expect an event are bounded by a generous deadline so that a slow
/// machine is not a failure; waits that expect nothing use short timeouts, because nothing is the answer.
/// </summary>
public static class PollerContractChecks
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Every check, by name, for runners that are not NUnit (the qemu console checker).</summary>
    public static IReadOnlyList<(string Name, Action<PollerKind> Run)> All { get; } =
    [
        (nameof(ReadableWhenDataArrives), ReadableWhenDataArrives),
        (nameof(NotReadableWithoutData), NotReadableWithoutData),
        (nameof(LevelTriggeredUntilDrained), LevelTriggeredUntilDrained),
        (nameof(WritableAfterConnect), WritableAfterConnect),
        (nameof(HangUpWhenPeerCloses), HangUpWhenPeerCloses),
        (nameof(InterestChanges), InterestChanges),
        (nameof(UnregisterStopsEvents), UnregisterStopsEvents),
        (nameof(MisuseIsRefusedClearly), MisuseIsRefusedClearly),
        (nameof(TimeoutIsHonouredWithoutBusyWaiting), TimeoutIsHonouredWithoutBusyWaiting),
        (nameof(WakeFromAnotherThreadEndsWait), WakeFromAnotherThreadEndsWait),
        (nameof(WakeBeforeWaitIsNotLost), WakeBeforeWaitIsNotLost),
        (nameof(WakeRacingTheDrainIsNotLost), WakeRacingTheDrainIsNotLost),
        (nameof(ManySocketsAtOnce), ManySocketsAtOnce),
    ];

    /// <summary>How many sockets the many-sockets check opens for each poller.</summary>
    public static int ManySocketCount(PollerKind kind) => kind == PollerKind.Select ? 1000 : 10_000;

    /// <summary>
    /// select must hold at least this many of them: all that fit below FD_SETSIZE in a process that already has a
    /// few hundred files open (a test host holds about 150).
    /// </summary>
    public const int SelectMinimumHeld = 700;

    public static void ReadableWhenDataArrives(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        poller.Register(pair.ServerFd, PollInterest.Read, 42);
        pair.Client.Send("ping"u8);
        PollEvent ready = WaitForToken(poller, 42);
        Check.That((ready.Events & PollEvents.Readable) != 0, $"expected Readable, got {ready.Events}");
        Span<byte> buffer = stackalloc byte[16];
        Check.That(pair.Server.Receive(buffer) == 4, "the data that made the socket readable should be there");
    }

    public static void NotReadableWithoutData(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        poller.Register(pair.ServerFd, PollInterest.Read, 7);
        Span<PollEvent> events = stackalloc PollEvent[8];
        int count = poller.Wait(events, 50);
        Check.That(count == 0, $"a socket with nothing to read was reported: {Describe(events[..count])}");
    }

    public static void LevelTriggeredUntilDrained(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        poller.Register(pair.ServerFd, PollInterest.Read, 9);
        pair.Client.Send("0123456789"u8);
        WaitForToken(poller, 9);
        // Not read yet: a level-triggered poller reports it again.
        WaitForToken(poller, 9);
        Span<byte> buffer = stackalloc byte[64];
        ReceiveExactly(pair.Server, buffer[..10]);
        Span<PollEvent> events = stackalloc PollEvent[8];
        int count = poller.Wait(events, 50);
        Check.That(count == 0, $"a drained socket was reported again: {Describe(events[..count])}");
    }

    public static void WritableAfterConnect(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        try
        {
            client.Connect(listener.LocalEndPoint!);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // The normal case for a non-blocking connect: completion is signalled by writability.
        }
        int fd = (int)client.SafeHandle.DangerousGetHandle();
        poller.Register(fd, PollInterest.Write, 3);
        PollEvent ready = WaitForToken(poller, 3);
        Check.That((ready.Events & PollEvents.Writable) != 0, $"expected Writable after connect, got {ready.Events}");
        using Socket accepted = listener.Accept();
        Check.That(client.Connected || client.Poll(0, SelectMode.SelectWrite), "the connection should be established");
    }

    public static void HangUpWhenPeerCloses(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        SocketPair pair = SocketPair.Create(listener);
        try
        {
            poller.Register(pair.ServerFd, PollInterest.Read, 11);
            pair.Client.Close();
            PollEvent ready = WaitForToken(poller, 11);
            Check.That((ready.Events & PollEvents.Readable) != 0, $"a closed peer must make the socket readable (end of stream), got {ready.Events}");
            if (poller.ReportsHangUp)
            {
                Check.That((ready.Events & PollEvents.HangUp) != 0, $"{poller.Name} reports hang-up, but the event was {ready.Events}");
            }
            Span<byte> buffer = stackalloc byte[8];
            Check.That(pair.Server.Receive(buffer) == 0, "reading after the peer closed should return end of stream");
            poller.Unregister(pair.ServerFd);
        }
        finally
        {
            pair.Dispose();
        }
    }

    public static void InterestChanges(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        Span<PollEvent> events = stackalloc PollEvent[8];

        poller.Register(pair.ServerFd, PollInterest.Read, 1);
        int count = poller.Wait(events, 30);
        Check.That(count == 0, $"read interest without data reported {Describe(events[..count])}");

        poller.Modify(pair.ServerFd, PollInterest.Write, 2);
        PollEvent writable = WaitForToken(poller, 2);
        Check.That(writable.Events == PollEvents.Writable, $"after Modify(Write) expected Writable only, got {writable.Events}");

        poller.Modify(pair.ServerFd, PollInterest.Read, 3);
        count = poller.Wait(events, 30);
        Check.That(count == 0, $"after Modify(Read) with no data, got {Describe(events[..count])}");

        pair.Client.Send("x"u8);
        PollEvent readable = WaitForToken(poller, 3);
        Check.That((readable.Events & PollEvents.Readable) != 0 && (readable.Events & PollEvents.Writable) == 0,
            $"after data arrived expected Readable under the new token, got {readable.Events}");

        poller.Modify(pair.ServerFd, PollInterest.ReadWrite, 4);
        PollEvents both = PollEvents.None;
        var watch = Stopwatch.StartNew();
        while (both != (PollEvents.Readable | PollEvents.Writable) && watch.Elapsed < Deadline)
        {
            count = poller.Wait(events, 100);
            foreach (PollEvent e in events[..count])
            {
                Check.That(e.Token == 4, $"unexpected token {e.Token}");
                both |= e.Events & (PollEvents.Readable | PollEvents.Writable);
            }
        }
        Check.That(both == (PollEvents.Readable | PollEvents.Writable), $"ReadWrite interest should report both, saw {both}");

        poller.Modify(pair.ServerFd, PollInterest.None, 5);
        count = poller.Wait(events, 30);
        Check.That(count == 0, $"no interest should report nothing, got {Describe(events[..count])}");
        poller.Unregister(pair.ServerFd);
    }

    public static void UnregisterStopsEvents(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        using SocketPair other = SocketPair.Create(listener);
        poller.Register(pair.ServerFd, PollInterest.Read, 21);
        poller.Register(other.ServerFd, PollInterest.Read, 22);
        pair.Client.Send("a"u8);
        WaitForToken(poller, 21);
        poller.Unregister(pair.ServerFd);
        Span<PollEvent> events = stackalloc PollEvent[8];
        int count = poller.Wait(events, 50);
        Check.That(count == 0, $"an unregistered socket with unread data was still reported: {Describe(events[..count])}");
        // The other registration is untouched.
        other.Client.Send("b"u8);
        WaitForToken(poller, 22);
        // And the fd can be registered again.
        poller.Register(pair.ServerFd, PollInterest.Read, 23);
        WaitForToken(poller, 23);
    }

    public static void MisuseIsRefusedClearly(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        Check.Throws<InvalidOperationException>(() => poller.Unregister(pair.ServerFd), "Unregister of an fd never registered");
        Check.Throws<InvalidOperationException>(() => poller.Modify(pair.ServerFd, PollInterest.Read, 1), "Modify of an fd never registered");
        poller.Register(pair.ServerFd, PollInterest.Read, 1);
        var twice = Check.Throws<InvalidOperationException>(() => poller.Register(pair.ServerFd, PollInterest.Read, 1), "Register twice");
        Check.That(twice.Message.Contains("already registered"), $"the message should say what is wrong: {twice.Message}");
        poller.Unregister(pair.ServerFd);
        Check.Throws<InvalidOperationException>(() => poller.Unregister(pair.ServerFd), "Unregister twice");
        Check.Throws<ArgumentException>(() => poller.Wait([], 0), "Wait with no room for events");
        if (kind == PollerKind.Select)
        {
            var beyond = Check.Throws<ArgumentOutOfRangeException>(
                () => poller.Register(FdSet.Capacity, PollInterest.Read, 1), "select with fd = FD_SETSIZE");
            Check.That(beyond.Message.Contains("FD_SETSIZE"), $"the message should name FD_SETSIZE: {beyond.Message}");
        }
        poller.Dispose();
        Check.Throws<ObjectDisposedException>(() => poller.Register(pair.ServerFd, PollInterest.Read, 1), "Register after Dispose");
        poller.Wake(); // harmless after Dispose
    }

    public static void TimeoutIsHonouredWithoutBusyWaiting(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen();
        using SocketPair pair = SocketPair.Create(listener);
        poller.Register(pair.ServerFd, PollInterest.Read, 1);
        Span<PollEvent> events = stackalloc PollEvent[8];

        Check.That(poller.Wait(events, 0) == 0, "a zero timeout with nothing ready returns no events");

        const int timeout = 300;
        TimeSpan cpuBefore = Libc.ThreadCpuTime();
        var watch = Stopwatch.StartNew();
        int count = poller.Wait(events, timeout);
        watch.Stop();
        TimeSpan cpu = Libc.ThreadCpuTime() - cpuBefore;
        Check.That(count == 0, $"nothing should be ready, got {Describe(events[..count])}");
        // Timers may round down by a scheduler tick, but never return early by more than that.
        Check.That(watch.ElapsedMilliseconds >= timeout - 20, $"Wait({timeout}) returned after {watch.ElapsedMilliseconds} ms");
        // A spinning wait would burn about as much CPU as wall time; a blocked one almost none.
        Check.That(cpu < TimeSpan.FromMilliseconds(timeout / 2), $"Wait({timeout}) used {cpu.TotalMilliseconds:F0} ms of CPU: it is not blocking");
    }

    public static void WakeFromAnotherThreadEndsWait(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        using var waiting = new ManualResetEventSlim();
        var waker = new Thread(() =>
        {
            waiting.Wait();
            Thread.Sleep(100); // let the poller thread enter the wait
            poller.Wake();
        });
        waker.Start();
        var events = new PollEvent[8];
        waiting.Set();
        var watch = Stopwatch.StartNew();
        int count = poller.Wait(events, (int)TimeSpan.FromSeconds(60).TotalMilliseconds);
        watch.Stop();
        waker.Join();
        Check.That(count == 0, $"a wake-up is not an event, got {Describe(events.AsSpan(0, count))}");
        Check.That(watch.Elapsed < TimeSpan.FromSeconds(30), $"Wake did not end a 60 s wait (took {watch.Elapsed})");

        // Wake-ups coalesce and leave nothing behind: the next wait times out normally.
        for (int i = 0; i < 100; i++) poller.Wake();
        poller.Wait(events, 1000);
        count = poller.Wait(events, 50);
        Check.That(count == 0, "a drained waker should not report again");
    }

    public static void WakeBeforeWaitIsNotLost(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        poller.Wake();
        Span<PollEvent> events = stackalloc PollEvent[4];
        var watch = Stopwatch.StartNew();
        poller.Wait(events, (int)TimeSpan.FromSeconds(60).TotalMilliseconds);
        Check.That(watch.Elapsed < TimeSpan.FromSeconds(30), "a Wake before Wait should make that Wait return at once");
    }

    /// <summary>
    /// Many wake-ups, each made while the waiting thread may be draining the previous one: every one must end a
    /// wait. (select's waker once reset its "a byte is in the pipe" flag before draining, so a Wake in between
    /// wrote a byte the drain ate and left the flag set: every later Wake returned without waking anyone.)
    /// </summary>
    public static void WakeRacingTheDrainIsNotLost(PollerKind kind)
    {
        using IPoller poller = PollerFactory.Create(kind);
        int requested = 0;
        int seen = 0;
        bool done = false;
        var waiter = new Thread(() =>
        {
            var events = new PollEvent[8];
            while (!Volatile.Read(ref done))
            {
                int wanted = Volatile.Read(ref requested);
                if (wanted > seen)
                {
                    Volatile.Write(ref seen, wanted);
                    continue;
                }
                poller.Wait(events, 5000);
            }
        });
        // Another thread keeps waking, so that wake-ups keep landing while the waiting thread drains.
        var noise = new Thread(() =>
        {
            while (!Volatile.Read(ref done)) poller.Wake();
        });
        waiter.Start();
        noise.Start();
        var run = Stopwatch.StartNew();
        int rounds = 0;
        string? lost = null;
        try
        {
            while (rounds < 20_000 && run.Elapsed < TimeSpan.FromSeconds(1))
            {
                int round = ++rounds;
                Volatile.Write(ref requested, round);
                poller.Wake();
                var wait = Stopwatch.StartNew();
                while (Volatile.Read(ref seen) < round)
                {
                    if (wait.Elapsed > TimeSpan.FromSeconds(2))
                    {
                        lost = $"wake-up {round} was lost: the waiting thread slept on";
                        break;
                    }
                    Thread.SpinWait(20);
                }
                if (lost is not null) break;
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            noise.Join();
            poller.Wake();
            waiter.Join();
        }
        Check.That(lost is null, lost ?? "");
        Check.That(rounds > 100, $"only {rounds} rounds ran");
    }

    public static void ManySocketsAtOnce(PollerKind kind)
    {
        int sockets = ManySocketCount(kind);
        Libc.RaiseOpenFileLimit();
        using IPoller poller = PollerFactory.Create(kind);
        using Socket listener = SocketPair.Listen(backlog: 4096);
        List<SocketPair> pairs = SocketPair.CreateMany(listener, sockets / 2);
        try
        {
            // Every socket of every pair is registered: half are clients, half servers.
            var fds = new List<int>(sockets);
            foreach (SocketPair pair in pairs)
            {
                fds.Add(pair.ClientFd);
                fds.Add(pair.ServerFd);
            }
            if (kind == PollerKind.Select)
            {
                // Sockets that landed at or above FD_SETSIZE must be refused, cleanly, and the rest still work.
                foreach (int fd in fds.Where(fd => fd >= FdSet.Capacity))
                {
                    var refused = Check.Throws<ArgumentOutOfRangeException>(
                        () => poller.Register(fd, PollInterest.Read, 0), $"select with fd {fd} >= FD_SETSIZE");
                    Check.That(refused.Message.Contains("FD_SETSIZE"), $"the refusal should name FD_SETSIZE: {refused.Message}");
                }
                fds.RemoveAll(fd => fd >= FdSet.Capacity);
                Check.That(fds.Count >= SelectMinimumHeld,
                    $"only {fds.Count} sockets fit below FD_SETSIZE; this process has too many other files open");
            }
            for (int i = 0; i < fds.Count; i++) poller.Register(fds[i], PollInterest.Read, i);

            var seen = new bool[fds.Count];
            Span<PollEvent> events = stackalloc PollEvent[512];
            Check.That(poller.Wait(events, 0) == 0, "no socket has data yet");

            foreach (SocketPair pair in pairs)
            {
                pair.Client.Send("c"u8);
                pair.Server.Send("s"u8);
            }
            int remaining = fds.Count;
            var watch = Stopwatch.StartNew();
            while (remaining > 0 && watch.Elapsed < Deadline * 3)
            {
                int count = poller.Wait(events, 200);
                foreach (PollEvent e in events[..count])
                {
                    Check.That((ulong)e.Token < (ulong)fds.Count, $"unknown token {e.Token}");
                    if (seen[e.Token]) continue;
                    seen[e.Token] = true;
                    remaining--;
                    poller.Modify(fds[(int)e.Token], PollInterest.None, e.Token);
                }
            }
            Check.That(remaining == 0, $"{remaining} of {fds.Count} sockets with data were never reported");
            foreach (int fd in fds) poller.Unregister(fd);
        }
        finally
        {
            foreach (SocketPair pair in pairs) pair.Dispose();
        }
    }

    private static PollEvent WaitForToken(IPoller poller, long token)
    {
        Span<PollEvent> events = stackalloc PollEvent[16];
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Deadline)
        {
            int count = poller.Wait(events, 100);
            foreach (PollEvent e in events[..count])
            {
                if (e.Token == token) return e;
            }
        }
        throw new ContractFailure($"token {token} was not reported within {Deadline.TotalSeconds} s");
    }

    private static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = socket.Receive(buffer[read..]);
            Check.That(n > 0, "the connection closed early");
            read += n;
        }
    }

    private static string Describe(ReadOnlySpan<PollEvent> events)
    {
        var parts = new List<string>();
        foreach (PollEvent e in events) parts.Add($"{e.Token}:{e.Events}");
        return "[" + string.Join(", ", parts) + "]";
    }
}
