using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Snow.Native;

// The one conversation with Redis a key has at a time: the next step decided under the lock (read the baseline
// version, subscribe, confirm, catch up, unsubscribe) and run outside it, and a failed step parked for the repair.
internal sealed partial class KeyRegistry
{
    private static readonly RedisValue[] VersionFields = ["e", "v", "p"];

    private enum Step
    {
        None,
        Remove,
        ReadBaseline,
        Subscribe,
        Confirm,
        CatchUp,
        Unsubscribe,
    }

    /// <summary>Tests only: runs after a key's version was read and before its SUBSCRIBE, to publish into that gap.</summary>
    internal Func<string, Task>? BeforeSubscribe { get; set; }

    private Step NextStepUnderGate(KeyChannel channel)
    {
        if (_disposed || channel.Removed) return Step.None;
        if (channel.IsLive)
        {
            if (!channel.HasBaseline) return Step.ReadBaseline;
            if (!channel.Registered) return Step.Subscribe;
            if (!channel.Confirmed) return Step.Confirm;
            return channel.NeedsCatchUp ? Step.CatchUp : Step.None;
        }
        return channel.Registered ? Step.Unsubscribe : Step.Remove;
    }

    /// <summary>True (and the channel marked as driven) when the key needs a conversation with Redis that is not running yet.</summary>
    private bool ShouldDriveUnderGate(KeyChannel channel)
    {
        if (channel.Driving || channel.Failed) return false;
        Step step = NextStepUnderGate(channel);
        if (step == Step.Remove) RemoveUnderGate(channel);
        if (step is Step.None or Step.Remove) return false;
        channel.Driving = true;
        return true;
    }

    private void RemoveUnderGate(KeyChannel channel)
    {
        channel.Removed = true;
        // Nobody waits on the key any more: a Listening of a future that left before the version was read is over too.
        if (channel.BaselineWatchers is { } watchers)
        {
            channel.BaselineWatchers = null;
            foreach (TaskCompletionSource watcher in watchers) watcher.TrySetResult(); // continuations run asynchronously
        }
        if (_channels.TryGetValue(channel.Channel, out KeyChannel? current) && ReferenceEquals(current, channel)) _channels.Remove(channel.Channel);
    }

    private async Task DriveAsync(KeyChannel channel)
    {
        bool lingered = false;
        while (true)
        {
            Step step;
            long failuresBefore;
            lock (_gate)
            {
                step = NextStepUnderGate(channel);
                if (step == Step.Remove) RemoveUnderGate(channel);
                if (step is Step.None or Step.Remove)
                {
                    channel.Driving = false;
                    return;
                }
                if (step != Step.Unsubscribe) lingered = false;
                if (step == Step.CatchUp) channel.NeedsCatchUp = false;
                if (step == Step.Subscribe) channel.Registered = true;
                failuresBefore = _connectionFailures;
            }
            RedisChannel name = RedisChannel.Literal(channel.Channel);
            try
            {
                switch (step)
                {
                    case Step.ReadBaseline:
                    {
                        (string? epoch, long version, _) = await ReadVersionAsync(channel).ConfigureAwait(false);
                        List<TaskCompletionSource>? watchers;
                        lock (_gate)
                        {
                            channel.KnownEpoch = epoch;
                            channel.KnownVersion = version;
                            channel.HasBaseline = true;
                            watchers = channel.BaselineWatchers;
                            channel.BaselineWatchers = null;
                        }
                        watchers?.ForEach(watcher => watcher.TrySetResult());
                        break;
                    }
                    case Step.Subscribe:
                        if (BeforeSubscribe is { } hook) await hook(channel.Key).ConfigureAwait(false);
                        ChannelMessageQueue queue;
                        try
                        {
                            queue = await _subscriber.SubscribeAsync(name).ConfigureAwait(false);
                        }
                        catch
                        {
                            // The client keeps a subscription whose SUBSCRIBE failed and sends it on reconnection; drop it,
                            // so that the retry subscribes once, from a known state.
                            lock (_gate) channel.Registered = false;
                            await ForgetSubscriptionAsync(name).ConfigureAwait(false);
                            throw;
                        }
                        // A queue hands its messages over one at a time, in Redis's order (handlers would run on
                        // pool threads, concurrently, and a newer version seen first would hide an older one from
                        // a listener); it lives until the channel is unsubscribed.
                        queue.OnMessage(message => OnMessage(channel, message.Message));
                        MarkConfirmed(channel, failuresBefore);
                        break;
                    case Step.Confirm:
                        // The client resubscribes every channel when the connection comes back, before it reports it
                        // restored; a ping on the subscription connection answers after those subscriptions did.
                        await _subscriber.PingAsync().ConfigureAwait(false);
                        MarkConfirmed(channel, failuresBefore);
                        break;
                    case Step.CatchUp:
                    {
                        (string? epoch, long version, string? message) = await ReadVersionAsync(channel).ConfigureAwait(false);
                        Deliver(channel, epoch, version, message);
                        Interlocked.Increment(ref _catchUps);
                        break;
                    }
                    case Step.Unsubscribe:
                        if (!lingered && _options.UnsubscribeDelay > TimeSpan.Zero)
                        {
                            lingered = true;
                            await Task.Delay(_options.UnsubscribeDelay).ConfigureAwait(false);
                            break; // decide again: a waiter may have come back meanwhile
                        }
                        lingered = false;
                        await _subscriber.UnsubscribeAsync(name).ConfigureAwait(false);
                        lock (_gate)
                        {
                            channel.Registered = false;
                            channel.Confirmed = false;
                        }
                        break;
                }
            }
            catch (Exception e)
            {
                _logger?.LogWarning("Redis: key '{Key}': {Step} failed ({Error}); retrying every {Interval} and when the connection is restored.",
                    channel.Key, step, e.Message, _options.RetryInterval);
                lock (_gate)
                {
                    if (step == Step.CatchUp) channel.NeedsCatchUp = true;
                    channel.Driving = false;
                    channel.Failed = true;
                    _failed.Add(channel);
                    ScheduleRepairUnderGate();
                }
                return;
            }
        }
    }

    private async Task ForgetSubscriptionAsync(RedisChannel name)
    {
        try
        {
            await _subscriber.UnsubscribeAsync(name).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Unreachable: the client dropped its own record of the channel before trying to tell Redis.
        }
    }

    private void MarkConfirmed(KeyChannel channel, long failuresBefore)
    {
        lock (_gate)
        {
            // A connection that failed meanwhile may have lost the subscription: confirm it again then.
            if (_connectionFailures != failuresBefore) return;
            channel.Confirmed = true;
            channel.NeedsCatchUp = true;
        }
    }

    private async Task<(string? Epoch, long Version, string? Message)> ReadVersionAsync(KeyChannel channel)
    {
        RedisValue[] fields = await _database.HashGetAsync(channel.Channel, VersionFields).ConfigureAwait(false);
        return (fields[0].IsNull ? null : (string?)fields[0], fields[1].IsNull ? 0 : (long)fields[1], fields[2].IsNull ? null : (string?)fields[2]);
    }
}
