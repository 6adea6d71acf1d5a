using System.Runtime.InteropServices;

namespace Snow.Native.Interop;

/// <summary>struct iovec for writev: base pointer and length.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IOVector
{
    public byte* Base;
    public nuint Count;
}

/// <summary>struct rlimit: two rlim_t (64-bit on every system we support).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RLimit
{
    public ulong Current;
    public ulong Maximum;
}
