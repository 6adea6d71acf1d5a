namespace Snow.Native;

/// <summary>The poller implementations. <see cref="Auto"/> means the best one the OS offers.</summary>
public enum PollerKind
{
    /// <summary>SNOW_POLLER if set, else the operating system's best: epoll on Linux, kqueue on macOS and FreeBSD, select elsewhere.</summary>
    Auto,
    /// <summary>Linux's epoll.</summary>
    Epoll,
    /// <summary>kqueue on macOS and the BSDs.</summary>
    Kqueue,
    /// <summary>select(2): everywhere, up to FD_SETSIZE (1024) descriptors.</summary>
    Select,
}
