using System.Buffers;

namespace Snow.Native.Transport;

/// <summary>
/// A connection's output buffer as an <see cref="IBufferWriter{T}"/>, for writers that produce their bytes in
/// place (a JSON serializer writes straight into the output, with no intermediate array). One per loop, bound to
/// one transport at a time while a writer runs. Loop thread only.
/// </summary>
internal sealed class OutputWriter : IBufferWriter<byte>
{
    // The smallest room handed out: a writer asking for "any" room (size 0) should not come back for every byte.
    private const int MinimumRoom = 256;

    private ConnectionTransport? _transport;

    /// <summary>Writes from now on go to <paramref name="transport"/>'s output.</summary>
    public void Bind(ConnectionTransport transport) => _transport = transport;

    public void Unbind() => _transport = null;

    public void Advance(int count) => Transport.Output.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => Transport.Output.GetMemory(Transport.Pool, Math.Max(sizeHint, MinimumRoom));

    public Span<byte> GetSpan(int sizeHint = 0) => Transport.Output.GetSpan(Transport.Pool, Math.Max(sizeHint, MinimumRoom));

    private ConnectionTransport Transport => _transport ?? throw new InvalidOperationException("The output writer is not bound to a connection.");
}
