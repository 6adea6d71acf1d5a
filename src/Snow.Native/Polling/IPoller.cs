namespace Snow.Native.Polling;

/// <summary>What a registered descriptor should be watched for.</summary>
[Flags]
internal enum PollInterest : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    ReadWrite = Read | Write,
}

/// <summary>What a poller saw on a descriptor.</summary>
[Flags]
internal enum PollEvents : byte
{
    None = 0,
    /// <summary>Data (or end of stream, or a pending connection) can be read without blocking.</summary>
    Readable = 1,
    /// <summary>Data can be written without blocking.</summary>
    Writable = 2,
    /// <summary>The peer closed or reset its side. Pollers that cannot tell (select) report only Readable; a read
    /// then returns 0 or fails.</summary>
    HangUp = 4,
    /// <summary>An error is pending on the descriptor; the next call on it reports it.</summary>
    Error = 8,
}

/// <summary>One ready descriptor: the token it was registered with and what it is ready for.</summary>
internal readonly record struct PollEvent(long Token, PollEvents Events);

/// <summary>
/// A readiness poller: the one contract epoll, kqueue and select implement. Level-triggered: a descriptor is
/// reported on every wait for as long as it stays ready. Every method except <see cref="Wake"/> and
/// <see cref="IDisposable.Dispose"/> belongs to the thread that waits; <see cref="Wake"/> may be called from any
/// thread at any time.
/// </summary>
internal interface IPoller : IDisposable
{
    /// <summary>"epoll", "kqueue" or "select".</summary>
    string Name { get; }

    /// <summary>The kind this poller is.</summary>
    PollerKind Kind { get; }

    /// <summary>Whether the poller reports <see cref="PollEvents.HangUp"/> (epoll, kqueue) or only readability (select).</summary>
    bool ReportsHangUp { get; }

    /// <summary>Starts watching <paramref name="fd"/>. Throws <see cref="InvalidOperationException"/> if it is
    /// already registered, and <see cref="ArgumentOutOfRangeException"/> if this poller cannot hold it.</summary>
    void Register(int fd, PollInterest interest, long token);

    /// <summary>Changes the interest and token of a registered descriptor.</summary>
    void Modify(int fd, PollInterest interest, long token);

    /// <summary>Stops watching <paramref name="fd"/>. Call it before closing the descriptor.</summary>
    void Unregister(int fd);

    /// <summary>
    /// Waits until a descriptor is ready, <see cref="Wake"/> is called, or <paramref name="timeoutMilliseconds"/>
    /// pass (-1 waits without limit, 0 does not block). Fills <paramref name="events"/> and returns how many it
    /// filled: 0 after a timeout, a wake-up or an interrupted wait. The same descriptor may appear twice in one
    /// batch (kqueue reports reading and writing separately).
    /// </summary>
    int Wait(Span<PollEvent> events, int timeoutMilliseconds);

    /// <summary>Ends the current or next <see cref="Wait"/> at once. Thread-safe; wake-ups coalesce.</summary>
    void Wake();
}
