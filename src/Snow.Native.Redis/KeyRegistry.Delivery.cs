using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Snow.Native;

// A version heard in a channel message or read in a catch-up: parsed, and if newer than the known one, the key's
// waiters completed and its listeners told; apart because messages and reads both end here, once per publish.
internal sealed partial class KeyRegistry
{
    private void OnMessage(KeyChannel channel, RedisValue value)
    {
        if (TryParse((string?)value, out string? epoch, out long version, out string? message)) Deliver(channel, epoch, version, message);
    }

    /// <summary>A version seen in a message or a read: if it is newer, completes every waiter and tells every listener.</summary>
    private void Deliver(KeyChannel channel, string? epoch, long version, string? message)
    {
        HashSet<KeyedFuture>? waiters = null;
        KeyListener[]? listeners = null;
        bool drive;
        lock (_gate)
        {
            if (channel.Removed || !channel.Advance(epoch, version) || message is null) return;
            if (channel.Waiters.Count > 0) waiters = TakeWaitersUnderGate(channel);
            if (channel.Listeners.Count > 0) listeners = [.. channel.Listeners];
            drive = ShouldDriveUnderGate(channel);
        }
        if (waiters is not null)
        {
            foreach (KeyedFuture waiter in waiters) waiter.SetResult(message);
        }
        if (listeners is not null)
        {
            foreach (KeyListener listener in listeners)
            {
                try
                {
                    listener.OnMessage(message);
                }
                catch (Exception e)
                {
                    _logger?.LogError(e, "Redis: a listener of key '{Key}' threw.", channel.Key);
                }
            }
        }
        if (drive) _ = DriveAsync(channel);
    }

    private HashSet<KeyedFuture> TakeWaitersUnderGate(KeyChannel channel)
    {
        HashSet<KeyedFuture> taken = channel.Waiters;
        channel.Waiters = [];
        foreach (KeyedFuture waiter in taken) waiter.Channel = null;
        _waiting -= taken.Count;
        return taken;
    }

    private static bool TryParse(string? value, out string? epoch, out long version, out string? message)
    {
        epoch = message = null;
        version = 0;
        if (value is null) return false;
        int first = value.IndexOf(':');
        int second = first < 0 ? -1 : value.IndexOf(':', first + 1);
        if (second < 0 || !long.TryParse(value.AsSpan(first + 1, second - first - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out version)) return false;
        epoch = value[..first];
        message = value[(second + 1)..];
        return true;
    }
}
