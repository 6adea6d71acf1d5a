namespace Snow.Native;

/// <summary>The poller implementations. <see cref="Auto"/> means the best one the OS offers.</summary>
public enum PollerKind
{
    Auto,
    Epoll,
    Kqueue,
    Select,
}
