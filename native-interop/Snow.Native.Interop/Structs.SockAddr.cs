using System.Net;
using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>
/// struct sockaddr_in, 16 bytes on every OS here. Linux starts with a 16-bit family; the BSDs start with a length
/// byte and an 8-bit family. Port and address are in network byte order everywhere.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct SockAddrIn
{
    [FieldOffset(0)] public ushort LinuxFamily;
    [FieldOffset(0)] public byte BsdLength;
    [FieldOffset(1)] public byte BsdFamily;
    [FieldOffset(2)] public ushort PortNetworkOrder;
    [FieldOffset(4)] public uint AddressNetworkOrder;
    [FieldOffset(8)] public ulong Zero;

    public const int Size = 16;
}

/// <summary>struct sockaddr_in6, 28 bytes on every OS here, with the same family/length split as sockaddr_in.</summary>
[StructLayout(LayoutKind.Explicit, Size = 28)]
internal unsafe struct SockAddrIn6
{
    [FieldOffset(0)] public ushort LinuxFamily;
    [FieldOffset(0)] public byte BsdLength;
    [FieldOffset(1)] public byte BsdFamily;
    [FieldOffset(2)] public ushort PortNetworkOrder;
    [FieldOffset(4)] public uint FlowInfo;
    [FieldOffset(8)] public fixed byte Address[16];
    [FieldOffset(24)] public uint ScopeId;

    public const int Size = 28;
}

/// <summary>Room for either address kind (a small sockaddr_storage), plus encoding and decoding per OS.</summary>
[StructLayout(LayoutKind.Explicit, Size = 28)]
internal unsafe struct SockAddr
{
    [FieldOffset(0)] public SockAddrIn V4;
    [FieldOffset(0)] public SockAddrIn6 V6;

    /// <summary>Encodes an endpoint for the running OS; returns the length to pass to bind/connect.</summary>
    public static int Encode(IPEndPoint endPoint, UnixFlavor flavor, out SockAddr storage)
    {
        storage = default;
        ushort port = (ushort)IPAddress.HostToNetworkOrder((short)endPoint.Port);
        bool bsd = flavor is UnixFlavor.MacOS or UnixFlavor.FreeBSD;
        if (endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            if (bsd)
            {
                storage.V4.BsdLength = SockAddrIn.Size;
                storage.V4.BsdFamily = (byte)LinuxConstants.AF_INET; // AF_INET is 2 everywhere
            }
            else
            {
                storage.V4.LinuxFamily = (ushort)LinuxConstants.AF_INET;
            }
            storage.V4.PortNetworkOrder = port;
            Span<byte> bytes = stackalloc byte[4];
            endPoint.Address.TryWriteBytes(bytes, out _);
            storage.V4.AddressNetworkOrder = MemoryMarshal.Read<uint>(bytes);
            return SockAddrIn.Size;
        }
        if (endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            int af6 = flavor switch
            {
                UnixFlavor.MacOS => MacOSConstants.AF_INET6,
                UnixFlavor.FreeBSD => FreeBSDConstants.AF_INET6,
                _ => LinuxConstants.AF_INET6,
            };
            if (bsd)
            {
                storage.V6.BsdLength = SockAddrIn6.Size;
                storage.V6.BsdFamily = (byte)af6;
            }
            else
            {
                storage.V6.LinuxFamily = (ushort)af6;
            }
            storage.V6.PortNetworkOrder = port;
            fixed (byte* address = storage.V6.Address)
            {
                endPoint.Address.TryWriteBytes(new Span<byte>(address, 16), out _);
            }
            storage.V6.ScopeId = (uint)endPoint.Address.ScopeId;
            return SockAddrIn6.Size;
        }
        throw new ArgumentException($"Only IPv4 and IPv6 endpoints are supported, not {endPoint.AddressFamily}.", nameof(endPoint));
    }

    /// <summary>Decodes what getsockname/accept wrote, or null for a family this layer does not know.</summary>
    public readonly IPEndPoint? Decode(UnixFlavor flavor)
    {
        bool bsd = flavor is UnixFlavor.MacOS or UnixFlavor.FreeBSD;
        int family = bsd ? V4.BsdFamily : V4.LinuxFamily;
        int port = (ushort)IPAddress.NetworkToHostOrder((short)V4.PortNetworkOrder);
        if (family == LinuxConstants.AF_INET)
        {
            return new IPEndPoint(new IPAddress(V4.AddressNetworkOrder), port);
        }
        int af6 = flavor switch
        {
            UnixFlavor.MacOS => MacOSConstants.AF_INET6,
            UnixFlavor.FreeBSD => FreeBSDConstants.AF_INET6,
            _ => LinuxConstants.AF_INET6,
        };
        if (family == af6)
        {
            SockAddrIn6 v6 = V6;
            var bytes = new ReadOnlySpan<byte>(v6.Address, 16).ToArray();
            return new IPEndPoint(new IPAddress(bytes, v6.ScopeId), port);
        }
        return null;
    }
}
