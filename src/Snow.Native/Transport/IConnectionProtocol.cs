namespace Snow.Native.Transport;

/// <summary>
/// What a transport tells the protocol on top of it (HTTP/1.1, or whatever an upgrade handed the transport to).
/// All calls come on the connection's loop thread. The protocol reads <see cref="ConnectionTransport.Input"/>,
/// appends to <see cref="ConnectionTransport.Output"/>, and never touches a socket.
/// </summary>
internal interface IConnectionProtocol
{
    /// <summary>Bytes arrived in the transport's input (or the protocol was just installed with input waiting).</summary>
    void OnInput();

    /// <summary>Output was sent; what is still queued is <see cref="ConnectionTransport.OutputPending"/>.</summary>
    void OnOutputSent();

    /// <summary>The peer finished sending (end of stream): no more input will come; output may still go out.</summary>
    void OnPeerClosed();

    /// <summary>The protocol's timer expired.</summary>
    void OnTimeout(TimerReason reason);

    /// <summary>The server is stopping: finish what is in progress, start nothing new.</summary>
    void OnShutdown();

    /// <summary>The transport is closed (by either side, a timeout or an error): give back what is held. Called once.</summary>
    void OnClosed();
}
