using Snow.Native.WebSockets;

namespace Snow.Native;

// What only some connections need, or need only now and then, kept apart so that an idle WebSocket does not carry
// it: frames sent from other threads until the loop takes them, a sender waiting for the queue to drain, the
// completion task, the peer's close reason, the subprotocol, permessage-deflate, and the topics subscribed to. Made
// the first time one of them is set (atomically: other threads' sends may be first); reads before that see defaults.
public sealed partial class WebSocketConnection
{
    private RareState? _rare;

    private RareState Rare => _rare ?? Interlocked.CompareExchange(ref _rare, new RareState(), null) ?? _rare;

    private sealed class RareState
    {
        public byte[]? PendingFrames;
        public int PendingLength;
        public bool PumpScheduled;
        public TaskCompletionSource<bool>? DrainWaiter;
        public TaskCompletionSource? CompletionSource;
        public string? PeerCloseReason;
        public string? SubProtocol;
        public DeflateAgreement? NegotiatedDeflate;
        public MessageDeflater? Deflater;
        public List<(WebSocketTopics Topics, string Topic)>? Subscriptions;
    }

    // Frames sent from other threads, until the loop moves them into the transport's output (under the gate).
    private byte[]? PendingFrames
    {
        get => _rare?.PendingFrames;
        set
        {
            if (value is not null || _rare is not null) Rare.PendingFrames = value;
        }
    }

    private int PendingLength
    {
        get => _rare?.PendingLength ?? 0;
        set
        {
            if (value != 0 || _rare is not null) Rare.PendingLength = value;
        }
    }

    private bool PumpScheduled
    {
        get => _rare?.PumpScheduled ?? false;
        set
        {
            if (value || _rare is not null) Rare.PumpScheduled = value;
        }
    }

    private TaskCompletionSource<bool>? DrainWaiter
    {
        get => _rare?.DrainWaiter;
        set
        {
            if (value is not null || _rare is not null) Rare.DrainWaiter = value;
        }
    }

    private TaskCompletionSource? CompletionSource
    {
        get => _rare?.CompletionSource;
        set
        {
            if (value is not null || _rare is not null) Rare.CompletionSource = value;
        }
    }

    private string? PeerCloseReason
    {
        get => _rare?.PeerCloseReason;
        set
        {
            if (value is not null || _rare is not null) Rare.PeerCloseReason = value;
        }
    }

    /// <summary>What permessage-deflate the handshake agreed, or null (set once, in the constructor).</summary>
    private DeflateAgreement? NegotiatedDeflate
    {
        get => _rare?.NegotiatedDeflate;
        set => Rare.NegotiatedDeflate = value;
    }

    // The zlib state, made at the first compressed message.
    private MessageDeflater? Deflater
    {
        get => _rare?.Deflater;
        set
        {
            if (value is not null || _rare is not null) Rare.Deflater = value;
        }
    }

    // Null until the first subscription: most connections never subscribe.
    private List<(WebSocketTopics Topics, string Topic)>? Subscriptions
    {
        get => _rare?.Subscriptions;
        set
        {
            if (value is not null || _rare is not null) Rare.Subscriptions = value;
        }
    }
}
