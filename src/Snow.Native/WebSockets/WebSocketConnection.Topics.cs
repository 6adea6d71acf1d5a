using Snow.Native.Loop;
using Snow.Native.WebSockets;

namespace Snow.Native;

// A connection's side of publish/subscribe: the topics it is on (so that it leaves them when it closes), and the
// sending of a frame that a publisher made once for all subscribers.
public sealed partial class WebSocketConnection
{

    internal EventLoop Loop => _transport.Loop;

    internal void Subscribed(WebSocketTopics topics, string topic) => (Subscriptions ??= new()).Add((topics, topic));

    internal void Unsubscribed(WebSocketTopics topics, string topic) => Subscriptions?.Remove((topics, topic));

    /// <summary>
    /// Loop thread: sends a whole frame made by a publisher, straight from the publisher's one copy when nothing is
    /// queued before it (the usual case: one send system call, no buffer taken); behind the queued output otherwise.
    /// </summary>
    internal void SendFramed(byte[] frame)
    {
        lock (Gate)
        {
            if (_closeSent || _closed) return;
            if (OverHardLimit(frame.Length))
            {
                _transport.Loop.Post(static state => ((WebSocketConnection)state!).Overflow(), this);
                return;
            }
            MovePending(); // frames other threads sent before this one go first
        }
        _transport.SendOrQueue(frame);
        if (_transport.IsClosed) return;
        lock (Gate) _queued = PendingLength + _transport.OutputPending;
    }

    /// <summary>On close: off every topic.</summary>
    private void LeaveTopics()
    {
        if (Subscriptions is null) return;
        foreach (var (topics, topic) in Subscriptions) topics.Remove(this, topic);
        Subscriptions = null;
    }
}
