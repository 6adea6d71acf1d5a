using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Snow.Native.WebSockets;

/// <summary>The opcodes of RFC 6455 section 5.2.</summary>
internal enum WebSocketOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>A parsed frame head (RFC 6455 section 5.2): everything before the payload.</summary>
internal struct FrameHead
{
    public bool Fin;
    public bool Rsv1;
    public WebSocketOpcode Opcode;
    public bool Masked;
    public uint MaskKey;        // the four key bytes as they are on the wire, read little-endian
    public long PayloadLength;
    public int HeadLength;

    public readonly bool IsControl => ((byte)Opcode & 0x8) != 0;
}

/// <summary>What <see cref="WebSocketFrameCodec.TryReadHead"/> found.</summary>
internal enum FrameHeadStatus : byte
{
    NeedMoreData,
    Done,
    Error,
}

/// <summary>
/// The frame format of RFC 6455 over spans: reading a client frame head (with the rules a server must enforce on
/// it), unmasking, and writing unmasked server frames. No state, no I/O.
/// </summary>
internal static class WebSocketFrameCodec
{
    /// <summary>The longest frame head: 2 bytes, a 64-bit length, a mask key.</summary>
    public const int MaxHeadLength = 14;

    /// <summary>Control frames carry at most this much payload (section 5.5).</summary>
    public const int MaxControlPayload = 125;

    /// <summary>
    /// Reads a frame head from the start of <paramref name="input"/>. Errors are protocol errors (close code
    /// 1002): reserved bits the negotiated extensions do not define, unknown opcodes, a fragmented or oversized
    /// control frame, an unmasked client frame, a 64-bit length with its top bit set.
    /// </summary>
    public static FrameHeadStatus TryReadHead(ReadOnlySpan<byte> input, bool allowRsv1, out FrameHead head, out string error)
    {
        head = default;
        error = "";
        if (input.Length < 2) return FrameHeadStatus.NeedMoreData;
        byte first = input[0];
        byte second = input[1];
        head.Fin = (first & 0x80) != 0;
        head.Rsv1 = (first & 0x40) != 0;
        head.Opcode = (WebSocketOpcode)(first & 0x0F);
        head.Masked = (second & 0x80) != 0;
        if ((first & 0x30) != 0 || (head.Rsv1 && !allowRsv1))
        {
            error = "a reserved bit is set that no negotiated extension defines";
            return FrameHeadStatus.Error;
        }
        switch (head.Opcode)
        {
            case WebSocketOpcode.Continuation or WebSocketOpcode.Text or WebSocketOpcode.Binary:
                break;
            case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                if (!head.Fin)
                {
                    error = "a control frame is fragmented";
                    return FrameHeadStatus.Error;
                }
                if (head.Rsv1)
                {
                    error = "a control frame has RSV1 set";
                    return FrameHeadStatus.Error;
                }
                break;
            default:
                error = $"reserved opcode 0x{(int)head.Opcode:X}";
                return FrameHeadStatus.Error;
        }
        if (!head.Masked)
        {
            error = "a client frame is not masked";
            return FrameHeadStatus.Error;
        }
        int length7 = second & 0x7F;
        int at = 2;
        if (length7 == 126)
        {
            if (input.Length < 4) return FrameHeadStatus.NeedMoreData;
            head.PayloadLength = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
            at = 4;
        }
        else if (length7 == 127)
        {
            if (input.Length < 10) return FrameHeadStatus.NeedMoreData;
            ulong length = BinaryPrimitives.ReadUInt64BigEndian(input[2..]);
            if ((length & (1UL << 63)) != 0)
            {
                error = "a 64-bit payload length has its most significant bit set";
                return FrameHeadStatus.Error;
            }
            head.PayloadLength = (long)length;
            at = 10;
        }
        else
        {
            head.PayloadLength = length7;
        }
        if (head.IsControl && head.PayloadLength > MaxControlPayload)
        {
            error = "a control frame carries more than 125 bytes";
            return FrameHeadStatus.Error;
        }
        if (input.Length < at + 4) return FrameHeadStatus.NeedMoreData;
        head.MaskKey = BinaryPrimitives.ReadUInt32LittleEndian(input[at..]);
        head.HeadLength = at + 4;
        return FrameHeadStatus.Done;
    }

    /// <summary>
    /// XORs <paramref name="data"/> with the mask key, <paramref name="offset"/> bytes into the payload (the key
    /// repeats every four bytes). Eight bytes at a time.
    /// </summary>
    public static void Unmask(Span<byte> data, uint maskKey, long offset)
    {
        if (data.IsEmpty) return;
        int shift = (int)(offset & 3) * 8;
        uint rotated = shift == 0 ? maskKey : (maskKey >> shift) | (maskKey << (32 - shift));
        ulong wide = rotated | ((ulong)rotated << 32);
        int i = 0;
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        if (BitConverter.IsLittleEndian)
        {
            for (int w = 0; w < words.Length; w++) words[w] ^= wide;
            i = words.Length * 8;
        }
        for (; i < data.Length; i++) data[i] ^= (byte)(rotated >> ((i & 3) * 8));
    }

    /// <summary>The length of an unmasked server frame head for a payload of <paramref name="payloadLength"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HeadLength(long payloadLength) => payloadLength < 126 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10;

    /// <summary>Writes an unmasked, final frame head; returns its length.</summary>
    public static int WriteHead(Span<byte> destination, WebSocketOpcode opcode, long payloadLength, bool fin = true, bool rsv1 = false)
    {
        destination[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (byte)opcode);
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }
        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>Writes a whole unmasked frame; returns its length.</summary>
    public static int WriteFrame(Span<byte> destination, WebSocketOpcode opcode, ReadOnlySpan<byte> payload, bool rsv1 = false)
    {
        int head = WriteHead(destination, opcode, payload.Length, fin: true, rsv1);
        payload.CopyTo(destination[head..]);
        return head + payload.Length;
    }

    /// <summary>
    /// Whether a peer may send <paramref name="code"/> in a close frame (section 7.4): the defined codes that are
    /// not reserved for local use (1005, 1006, 1015 never go on the wire), and 3000-4999.
    /// </summary>
    public static bool IsValidCloseCode(int code) => code switch
    {
        >= 1000 and <= 1003 => true,
        >= 1007 and <= 1014 => true,
        >= 3000 and <= 4999 => true,
        _ => false,
    };
}
