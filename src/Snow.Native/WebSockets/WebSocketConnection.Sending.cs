using Snow.Native.Transport;
using Snow.Native.WebSockets;

namespace Snow.Native;

// Sending frames: from the loop straight into the transport's output, from other threads into the pending queue that
// the loop pumps, compression of what goes out, and the hard limit past which a slow client is closed (back-pressure).
public sealed partial class WebSocketConnection
{
    /// <summary>Messages shorter than this go uncompressed: deflate would not make them smaller.</summary>
    private const int MinCompressedBytes = 64;

    /// <summary>The payload as it goes on the wire: compressed (RSV1) when deflate was agreed and it is worth it. Under the gate.</summary>
    private ReadOnlySpan<byte> Encode(WebSocketOpcode opcode, ReadOnlySpan<byte> payload, out bool rsv1)
    {
        rsv1 = false;
        if (NegotiatedDeflate is null || opcode > WebSocketOpcode.Binary || payload.Length < MinCompressedBytes) return payload;
        Deflater ??= new MessageDeflater(NegotiatedDeflate, _settings.CompressionLevel);
        rsv1 = true;
        return Deflater.Compress(payload);
    }

    private bool SendFrame(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        if (_transport.Loop.IsOnLoopThread)
        {
            if (!WriteOnLoop(opcode, payload)) return false;
            if (!_inTransportCall && !_closed) _transport.Flush();
            return !_closed;
        }
        bool schedule;
        lock (Gate)
        {
            if (_closeSent || _closed) return false;
            ReadOnlySpan<byte> body = Encode(opcode, payload, out bool rsv1);
            int frameLength = WebSocketFrameCodec.HeadLength(body.Length) + body.Length;
            if (OverHardLimit(frameLength))
            {
                _transport.Loop.Post(static state => ((WebSocketConnection)state!).Overflow(), this);
                return false;
            }
            if (PendingFrames is null)
            {
                PendingFrames = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(frameLength, 4096));
            }
            else if (PendingFrames.Length - PendingLength < frameLength)
            {
                byte[] larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(PendingLength + frameLength, PendingFrames.Length * 2));
                PendingFrames.AsSpan(0, PendingLength).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(PendingFrames);
                PendingFrames = larger;
            }
            PendingLength += WebSocketFrameCodec.WriteFrame(PendingFrames.AsSpan(PendingLength), opcode, body, rsv1);
            _queued += frameLength;
            schedule = !PumpScheduled;
            PumpScheduled = true;
        }
        if (schedule) _transport.Loop.Post(static state => ((WebSocketConnection)state!).Pump(), this);
        return true;
    }

    /// <summary>Frames into the transport's output, after whatever other threads queued. Loop thread.</summary>
    private bool WriteOnLoop(WebSocketOpcode opcode, ReadOnlySpan<byte> payload)
    {
        lock (Gate)
        {
            if (_closeSent || _closed) return false;
            ReadOnlySpan<byte> body = Encode(opcode, payload, out bool rsv1);
            int frameLength = WebSocketFrameCodec.HeadLength(body.Length) + body.Length;
            if (opcode <= WebSocketOpcode.Binary && OverHardLimit(frameLength))
            {
                Overflow();
                return false;
            }
            MovePending();
            ref OutputBuffer output = ref _transport.Output;
            output.Advance(WebSocketFrameCodec.WriteFrame(output.GetSpan(_transport.Pool, frameLength), opcode, body, rsv1));
            if (opcode == WebSocketOpcode.Close) _closeSent = true;
            _queued = _transport.OutputPending;
        }
        return true;
    }

    private bool OverHardLimit(int frameLength) => _queued > 0 && (long)_queued + frameLength > (long)_settings.MaxQueuedBytes * HardLimitFactor;

    /// <summary>Posted by a send from another thread: moves the queued frames into the output and sends them.</summary>
    private void Pump()
    {
        lock (Gate)
        {
            PumpScheduled = false;
            if (_closed) return;
            MovePending();
            _queued = _transport.OutputPending;
        }
        _transport.Flush();
    }

    private void MovePending()
    {
        if (PendingLength > 0)
        {
            PendingFrames.AsSpan(0, PendingLength).CopyTo(_transport.Output.GetSpan(_transport.Pool, PendingLength));
            _transport.Output.Advance(PendingLength);
            PendingLength = 0;
        }
        if (PendingFrames is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(PendingFrames);
            PendingFrames = null;
        }
    }

    private void Overflow()
    {
        if (_closed) return;
        WebSocketLog.SendOverflow(_transport.Logger, (long)_settings.MaxQueuedBytes * HardLimitFactor);
        _transport.Close();
    }
}
