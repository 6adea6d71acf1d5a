namespace Snow.Native.Transport.Tls;

/// <summary>
/// A transport that negotiates before any protocol speaks (TLS, with either engine): until its handshake is done it
/// is its own protocol, which hears nothing but the handshake's time limit, the peer's end and the server's stop.
/// </summary>
internal abstract class HandshakingTransport(TransportContext context) : ConnectionTransport(context), IConnectionProtocol
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
