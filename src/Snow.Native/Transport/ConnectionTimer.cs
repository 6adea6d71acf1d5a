namespace Snow.Native.Transport;

/// <summary>Why a connection's one timer is running: what it waits for, and so what its expiry means.</summary>
internal enum TimerReason : byte
{
    None,
    /// <summary>A request head has begun (or is due after a response) and must arrive whole.</summary>
    RequestHeaders,
    /// <summary>An idle keep-alive connection waits for its next request.</summary>
    KeepAlive,
    /// <summary>A request body goes without a byte for too long.</summary>
    RequestBodyIdle,
    /// <summary>A request body arrives slower than the minimum data rate.</summary>
    MinDataRate,
    /// <summary>Queued output that the client does not take (set by the transport).</summary>
    SendStall,
    /// <summary>After the last response and a half-close, the client's remaining bytes are read and dropped (set by the transport).</summary>
    Linger,
    /// <summary>A TLS handshake must finish (set by the TLS transport before any protocol speaks).</summary>
    Handshake,
    /// <summary>An upgraded protocol's own timeout (for example a close handshake).</summary>
    Protocol,
}

/// <summary>
/// The one timer of a connection: a reason and a due time on the loop clock, checked by the loop's heartbeat.
/// The protocol sets it for what it waits for; while output waits for the client, the transport's send-stall
/// timer stands in for it, and the protocol's timer starts again, from then, once the output is gone.
/// </summary>
internal struct ConnectionTimer
{
    public TimerReason Reason;
    public long Due;        // loop milliseconds; 0 when not running
    public long Duration;   // what it was set for, to restart it from a later moment

    public readonly bool IsRunning => Due != 0;

    public void Set(TimerReason reason, long now, long duration)
    {
        Reason = reason;
        Duration = duration;
        Due = duration <= 0 ? 0 : now + duration;
    }

    public void Restart(long now) => Due = Reason == TimerReason.None || Duration <= 0 ? 0 : now + Duration;

    public void Clear() => this = default;
}
