namespace Snow.Native.Transport.Tls;

/// <summary>Before any protocol speaks, the TLS transport is its own protocol: the handshake and its time limit.</summary>
internal sealed partial class TlsTransport
{
    void IConnectionProtocol.OnInput()
    {
        // No plaintext arrives before the handshake is done.
    }

    void IConnectionProtocol.OnOutputSent()
    {
    }

    void IConnectionProtocol.OnPeerClosed() => Close();

    void IConnectionProtocol.OnTimeout(TimerReason reason)
    {
        TlsLog.HandshakeTimedOut(Context.Logger);
        Close();
    }

    void IConnectionProtocol.OnShutdown() => Close(); // the server is stopping: a handshake in progress is not a request in progress

    void IConnectionProtocol.OnClosed()
    {
    }
}
