using Snow.Native.Transport;

namespace Snow.Native.Tests.Protocol;

/// <summary>A trivial protocol for the upgrade test: sends back every byte, closes when the peer does.</summary>
internal sealed class EchoProtocol(ConnectionTransport transport) : IConnectionProtocol
{
    public void OnInput()
    {
        ReadOnlySpan<byte> input = transport.Input.Span;
        input.CopyTo(transport.Output.GetSpan(transport.Pool, input.Length));
        transport.Output.Advance(input.Length);
        transport.Input.Consume(input.Length);
    }

    public void OnOutputSent()
    {
    }

    public void OnPeerClosed() => transport.Close();

    public void OnTimeout(TimerReason reason)
    {
    }

    public void OnShutdown() => transport.Close();

    public void OnClosed()
    {
    }
}
