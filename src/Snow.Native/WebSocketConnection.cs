using System.Buffers;
using System.Text;
using System.Threading.Tasks.Sources;
using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

/// <summary>
/// One accepted WebSocket (RFC 6455, server side), living on its connection's loop. Receive with
/// <see cref="ReceiveAsync"/> (on the loop: a session's awaits resume there) or with the callbacks given to
/// <see cref="WebSocketRequests.AcceptWebSocket(HttpRequest, Action{WebSocketConnection, WebSocketMessage}, Action{WebSocketConnection}?, Action{WebSocketConnection}?, WebSocketOptions?)"/>;
/// send from any thread with <see cref="Send(ReadOnlySpan{byte}, WebSocketMessageKind)"/> (the bytes are framed
/// and queued at once, like Future.SetResult posts to the loop) or <see cref="SendAsync(ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/>,
/// which also waits while the client is slow.
/// </summary>
/// <remarks>
/// <para>Back-pressure: no message is read while nobody receives (the client's sends then wait in TCP), and
/// <see cref="SendAsync(ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/> waits while more than
/// <see cref="WebSocketOptions.MaxQueuedBytes"/> are queued for the client. A sender that ignores that may queue
/// <see cref="HardLimitFactor"/> times as much; the next send past it closes the connection and returns false.</para>
/// <para>Every frame from the client is checked: masking, reserved bits and opcodes, control-frame rules, the order
/// of fragments, UTF-8 of text and of close reasons, close codes, and the message size; a violation sends the
/// RFC's close code (1002, 1007, 1009) and closes.</para>
/// </remarks>
public sealed partial class WebSocketConnection
{
    /// <summary>How many times <see cref="WebSocketOptions.MaxQueuedBytes"/> may be queued before a send closes the connection.</summary>
    public const int HardLimitFactor = 16;

    private readonly ConnectionTransport _transport;
    private readonly WebSocketSettings _settings;
    private readonly WebSocketHandlers _handlers; // shared by the connections accepted with the same callbacks

    // Guards the send state shared with other threads: the transport's monitor, an object this connection owns
    // and nothing else locks (no lock object per connection).
    private object Gate => _transport;

    // The receive in progress: one at a time, completed on the loop. Its result is kept in parts (the kind in the
    // core, the data's buffer and length here) rather than as a whole message struct, which idle sessions would
    // carry for nothing.
    private ManualResetValueTaskSourceCore<WebSocketMessageKind> _receive;
    private byte[]? _receivedBuffer;
    private int _receivedLength;
    private int _receiveBusy;
    private bool _receiving;

    // The session's task while it runs (for its end: closed normally, or 1011 if it threw).
    private Task? _session;

    // Bytes queued for the client: the transport's output and the frames other threads sent (see WebSocketConnection.Rare.cs).
    private volatile int _queued;

    internal WebSocketConnection(ConnectionTransport transport, WebSocketSettings settings, WebSocketHandlers handlers, string? subProtocol,
        DeflateAgreement? deflate = null)
    {
        _transport = transport;
        if (deflate is not null) Rare.NegotiatedDeflate = deflate;
        _settings = settings;
        _handlers = handlers;
        if (subProtocol is not null) Rare.SubProtocol = subProtocol;
        _receive.RunContinuationsAsynchronously = false;
        // The 101 is not written yet: the application starts once this protocol has the transport.
        transport.Loop.Post(static state => ((WebSocketConnection)state!).Begin(), this);
    }

    /// <summary>The subprotocol chosen in the handshake (see <see cref="WebSocketOptions.SubProtocols"/>), or null.</summary>
    public string? SubProtocol => _rare?.SubProtocol;

    /// <summary>Whether permessage-deflate was negotiated (see <see cref="WebSocketOptions.EnableCompression"/>).</summary>
    public bool IsCompressed => NegotiatedDeflate is not null;

    /// <summary>True once a close frame was sent (by either side's initiative) or the connection is closed: sends are refused.</summary>
    public bool IsClosing => _closeSent || _closed;

    /// <summary>True once the connection is closed.</summary>
    public bool IsClosed => _closed;

    /// <summary>The code of the peer's close frame (1005 if it had none), or 1006 if the connection ended without one; 0 while open.</summary>
    public int CloseStatus => _closeStatus;

    /// <summary>The reason in the peer's close frame, or null.</summary>
    public string? CloseReason => PeerCloseReason;

    /// <summary>Bytes queued for the client and not yet sent (approximate when read off the loop).</summary>
    public int QueuedBytes => _queued;

    /// <summary>Completes once the connection is closed.</summary>
    public Task Completion
    {
        get
        {
            lock (Gate)
            {
                CompletionSource ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_closed) CompletionSource.TrySetResult();
                return CompletionSource.Task;
            }
        }
    }

    /// <summary>
    /// The next message; a <see cref="WebSocketMessageKind.Close"/> one once the peer closed (or the connection
    /// ended), and from then on. One receive at a time. Its data is valid until the next call. Not for connections
    /// accepted with an onMessage callback.
    /// </summary>
    public ValueTask<WebSocketMessage> ReceiveAsync()
    {
        if (_handlers.OnMessage is not null) throw new InvalidOperationException("This WebSocket delivers its messages to its onMessage callback.");
        if (Interlocked.Exchange(ref _receiveBusy, 1) == 1) throw new InvalidOperationException("A receive is already in progress on this WebSocket.");
        _receive.Reset();
        var task = new ValueTask<WebSocketMessage>(this, _receive.Version);
        _transport.Loop.Invoke(static state => ((WebSocketConnection)state!).BeginReceive(), this);
        return task;
    }

    /// <summary>
    /// Frames and queues one message; thread-safe, the data is copied. False (and nothing sent) once the
    /// connection is closing, or when this send would pass the hard limit (the connection is then closed).
    /// </summary>
    public bool Send(ReadOnlySpan<byte> data, WebSocketMessageKind kind = WebSocketMessageKind.Binary)
    {
        if (kind == WebSocketMessageKind.Close) throw new ArgumentException("Close with Close or CloseAsync.", nameof(kind));
        return SendFrame(kind == WebSocketMessageKind.Text ? WebSocketOpcode.Text : WebSocketOpcode.Binary, data);
    }

    /// <summary>Sends <paramref name="text"/> as a text message; see <see cref="Send(ReadOnlySpan{byte}, WebSocketMessageKind)"/>.</summary>
    public bool Send(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, rented);
            return SendFrame(WebSocketOpcode.Text, rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Sends one message, then waits while more than <see cref="WebSocketOptions.MaxQueuedBytes"/> are queued for
    /// the client. False once the connection is closing.
    /// </summary>
    public ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageKind kind = WebSocketMessageKind.Binary, CancellationToken cancellationToken = default) =>
        Send(data.Span, kind) ? WaitForDrainAsync(cancellationToken) : new ValueTask<bool>(false);

    /// <summary>Sends a text message, then waits like <see cref="SendAsync(ReadOnlyMemory{byte}, WebSocketMessageKind, CancellationToken)"/>.</summary>
    public ValueTask<bool> SendAsync(string text, CancellationToken cancellationToken = default) =>
        Send(text) ? WaitForDrainAsync(cancellationToken) : new ValueTask<bool>(false);

    /// <summary>
    /// True once fewer than <see cref="WebSocketOptions.MaxQueuedBytes"/> are queued for the client (at once if so);
    /// false once the connection is closed. Continuations do not run inline on the loop.
    /// </summary>
    public ValueTask<bool> WaitForDrainAsync(CancellationToken cancellationToken = default)
    {
        Task<bool> task;
        lock (Gate)
        {
            if (_closed) return new ValueTask<bool>(false);
            if (_queued < _settings.MaxQueuedBytes) return new ValueTask<bool>(true);
            DrainWaiter ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            task = DrainWaiter.Task;
        }
        return new ValueTask<bool>(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
    }

    /// <summary>
    /// Starts the close handshake (thread-safe): sends a close frame with <paramref name="code"/> and
    /// <paramref name="reason"/> (at most 123 UTF-8 bytes), then closes once the client answers, or after
    /// <see cref="WebSocketOptions.CloseTimeout"/>. Messages still arriving are dropped.
    /// </summary>
    public void Close(int code = WebSocketCloseCode.NormalClosure, string? reason = null)
    {
        if (!WebSocketFrameCodec.IsValidCloseCode(code)) throw new ArgumentOutOfRangeException(nameof(code), code, "Not a close code that may be sent (1000-1003, 1007-1014, 3000-4999).");
        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > WebSocketFrameCodec.MaxControlPayload - 2)
        {
            throw new ArgumentException("A close reason is at most 123 bytes of UTF-8.", nameof(reason));
        }
        _transport.Loop.Invoke(static state =>
        {
            var (connection, closeCode, closeReason) = ((WebSocketConnection, int, string?))state!;
            connection.BeginClose(closeCode, closeReason);
        }, (this, code, reason));
    }

    /// <summary>Starts the close handshake like <see cref="Close"/> and completes once the connection is closed.</summary>
    public Task CloseAsync(int code = WebSocketCloseCode.NormalClosure, string? reason = null)
    {
        Task completion = Completion;
        Close(code, reason);
        return completion;
    }
}
