using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Snow.Native;

// Connection loss and restoration, and the retry timer: every key is confirmed and caught up again after an outage
// and failed drives are restarted; apart because it reacts to the multiplexer, not to a waiter or a message.
internal sealed partial class KeyRegistry
{
    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        List<KeyChannel> drive = [];
        lock (_gate)
        {
            if (_disposed) return;
            _connectionFailures++;
            foreach (KeyChannel channel in _channels.Values)
            {
                // Publishes during the outage are not heard: once the subscription is back, the version is read again.
                channel.Confirmed = false;
                if (ShouldDriveUnderGate(channel)) drive.Add(channel);
            }
        }
        _logger?.LogWarning("Redis: connection lost ({Failure}); parked waiters stay parked, and their keys are caught up when it is back.", e.FailureType);
        foreach (KeyChannel channel in drive) _ = DriveAsync(channel);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => Repair();

    private void ScheduleRepairUnderGate()
    {
        if (_repairScheduled || _disposed) return;
        _repairScheduled = true;
        _repairTimer.Change(_options.RetryInterval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Starts the drive of every key whose last one failed (on the retry timer, and when the connection is restored).</summary>
    private void Repair()
    {
        List<KeyChannel> drive = [];
        lock (_gate)
        {
            if (_disposed) return;
            _repairScheduled = false;
            foreach (KeyChannel channel in _failed)
            {
                channel.Failed = false;
                if (ShouldDriveUnderGate(channel)) drive.Add(channel);
            }
            _failed.Clear();
        }
        foreach (KeyChannel channel in drive) _ = DriveAsync(channel);
    }
}
