using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Snow.Native.Interop;
using Snow.Native.Polling;

namespace Snow.Native.Tests.Interop;

/// <summary>
/// Size and field offsets of every struct handed to the kernel, for every OS and architecture the code claims.
/// The structs are fixed managed types, so the layouts of other platforms are checked here too; which one the
/// running process uses is checked against its own OS and architecture.
/// </summary>
// Internal because its test cases take the interop's internal types (NUnit runs internal fixtures).
internal sealed unsafe class StructLayoutTests
{
    private static int Offset<TStruct, TField>(ref TStruct instance, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref instance), ref Unsafe.As<TField, byte>(ref field));

    [Test]
    public void EpollEventPackedIsTheX64Layout()
    {
        var e = default(EpollEventPacked);
        Assert.Multiple(() =>
        {
            Assert.That(sizeof(EpollEventPacked), Is.EqualTo(12));
            Assert.That(Offset(ref e, ref e.Events), Is.EqualTo(0));
            Assert.That(Offset(ref e, ref e.Data), Is.EqualTo(4));
        });
    }

    [Test]
    public void EpollEventAlignedIsTheArm64Layout()
    {
        var e = default(EpollEventAligned);
        Assert.Multiple(() =>
        {
            Assert.That(sizeof(EpollEventAligned), Is.EqualTo(16));
            Assert.That(Offset(ref e, ref e.Events), Is.EqualTo(0));
            Assert.That(Offset(ref e, ref e.Data), Is.EqualTo(8));
        });
    }

    [Test]
    public void EpollUsesTheLayoutOfThisArchitecture()
    {
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Assert.Multiple(() =>
        {
            Assert.That(EpollEventLayout.IsPacked, Is.EqualTo(x64));
            Assert.That(EpollEventLayout.Size, Is.EqualTo(x64 ? 12 : 16));
            Assert.That(EpollEventLayout.DataOffset, Is.EqualTo(x64 ? 4 : 8));
        });
    }

    [Test]
    public void KEventMacOSIs32Bytes()
    {
        var e = default(KEventMacOS);
        Assert.Multiple(() =>
        {
            Assert.That(sizeof(KEventMacOS), Is.EqualTo(32));
            Assert.That(Offset(ref e, ref e.Ident), Is.EqualTo(0));
            Assert.That(Offset(ref e, ref e.Filter), Is.EqualTo(8));
            Assert.That(Offset(ref e, ref e.Flags), Is.EqualTo(10));
            Assert.That(Offset(ref e, ref e.FFlags), Is.EqualTo(12));
            Assert.That(Offset(ref e, ref e.Data), Is.EqualTo(16));
            Assert.That(Offset(ref e, ref e.UData), Is.EqualTo(24));
        });
    }

    [Test]
    public void KEventFreeBSDIs64Bytes()
    {
        var e = default(KEventFreeBSD);
        int ext = (int)Unsafe.ByteOffset(ref Unsafe.As<KEventFreeBSD, byte>(ref e), ref Unsafe.AsRef<byte>(e.Ext));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sizeof(KEventFreeBSD), Is.EqualTo(64));
            Assert.That(Offset(ref e, ref e.Ident), Is.EqualTo(0));
            Assert.That(Offset(ref e, ref e.Filter), Is.EqualTo(8));
            Assert.That(Offset(ref e, ref e.Flags), Is.EqualTo(10));
            Assert.That(Offset(ref e, ref e.FFlags), Is.EqualTo(12));
            Assert.That(Offset(ref e, ref e.Data), Is.EqualTo(16));
            Assert.That(Offset(ref e, ref e.UData), Is.EqualTo(24));
            Assert.That(ext, Is.EqualTo(32));
        }
    }

    [Test]
    public void KqueuePollerReadsTheFieldsWhereBothLayoutsPutThem()
    {
        var offsets = KqueuePoller.Offsets;
        var mac = default(KEventMacOS);
        var bsd = default(KEventFreeBSD);
        Assert.Multiple(() =>
        {
            Assert.That(offsets.Filter, Is.EqualTo(Offset(ref mac, ref mac.Filter)).And.EqualTo(Offset(ref bsd, ref bsd.Filter)));
            Assert.That(offsets.Flags, Is.EqualTo(Offset(ref mac, ref mac.Flags)).And.EqualTo(Offset(ref bsd, ref bsd.Flags)));
            Assert.That(offsets.FFlags, Is.EqualTo(Offset(ref mac, ref mac.FFlags)).And.EqualTo(Offset(ref bsd, ref bsd.FFlags)));
            Assert.That(offsets.Data, Is.EqualTo(Offset(ref mac, ref mac.Data)).And.EqualTo(Offset(ref bsd, ref bsd.Data)));
            Assert.That(offsets.UData, Is.EqualTo(Offset(ref mac, ref mac.UData)).And.EqualTo(Offset(ref bsd, ref bsd.UData)));
        });
    }

    [Test]
    public void FdSetIs1024Bits()
    {
        Assert.That(sizeof(FdSet), Is.EqualTo(128));
        Assert.That(FdSet.Capacity, Is.EqualTo(1024));
    }

    [Test]
    public void FdSetPutsBitNInWordNDiv64()
    {
        var set = default(FdSet);
        set.Set(0);
        set.Set(65);
        set.Set(1023);
        ulong* words = (ulong*)&set;
        Assert.That(words[0], Is.EqualTo(1UL));
        Assert.That(words[1], Is.EqualTo(2UL));
        Assert.That(words[15], Is.EqualTo(1UL << 63));
        Assert.That(set.IsSet(65), Is.True);
        Assert.That(set.IsSet(64), Is.False);
        set.Clear(65);
        Assert.That(words[1], Is.EqualTo(0UL));
    }

    [TestCase(1024)]
    [TestCase(4096)]
    [TestCase(-1)]
    public void FdSetRefusesDescriptorsOutsideIt(int fd)
    {
        var set = default(FdSet);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Set(fd));
    }

    [Test]
    public void TimeValAndTimeSpecAreTwoLongs()
    {
        var tv = TimeVal.FromMilliseconds(2500);
        long* words = (long*)&tv;
        Assert.Multiple(() =>
        {
            Assert.That(sizeof(TimeVal), Is.EqualTo(16));
            Assert.That(sizeof(TimeSpec), Is.EqualTo(16));
            Assert.That(words[0], Is.EqualTo(2));
            Assert.That(words[1], Is.EqualTo(500_000), "tv_usec read as a 64-bit long (Linux) must be the same value");
            Assert.That(*(int*)&words[1], Is.EqualTo(500_000), "tv_usec read as a 32-bit int (macOS) must be the same value");
        });
        var ts = TimeSpec.FromMilliseconds(1250);
        Assert.That((ts.Seconds, ts.Nanoseconds), Is.EqualTo(((nint)1, (nint)250_000_000)));
    }

    [Test]
    public void SockAddrInIs16BytesWithPortAt2AndAddressAt4()
    {
        var a = default(SockAddrIn);
        Assert.Multiple(() =>
        {
            Assert.That(sizeof(SockAddrIn), Is.EqualTo(16));
            Assert.That(Offset(ref a, ref a.LinuxFamily), Is.EqualTo(0));
            Assert.That(Offset(ref a, ref a.BsdLength), Is.EqualTo(0));
            Assert.That(Offset(ref a, ref a.BsdFamily), Is.EqualTo(1));
            Assert.That(Offset(ref a, ref a.PortNetworkOrder), Is.EqualTo(2));
            Assert.That(Offset(ref a, ref a.AddressNetworkOrder), Is.EqualTo(4));
            Assert.That(Offset(ref a, ref a.Zero), Is.EqualTo(8));
        });
    }

    [Test]
    public void SockAddrIn6Is28Bytes()
    {
        var a = default(SockAddrIn6);
        int address = (int)Unsafe.ByteOffset(ref Unsafe.As<SockAddrIn6, byte>(ref a), ref Unsafe.AsRef<byte>(a.Address));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(sizeof(SockAddrIn6), Is.EqualTo(28));
            Assert.That(Offset(ref a, ref a.PortNetworkOrder), Is.EqualTo(2));
            Assert.That(Offset(ref a, ref a.FlowInfo), Is.EqualTo(4));
            Assert.That(address, Is.EqualTo(8));
            Assert.That(Offset(ref a, ref a.ScopeId), Is.EqualTo(24));
        }
    }

    [TestCase(UnixFlavor.Linux, new byte[] { 2, 0, 0x1f, 0x54, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [TestCase(UnixFlavor.MacOS, new byte[] { 16, 2, 0x1f, 0x54, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [TestCase(UnixFlavor.FreeBSD, new byte[] { 16, 2, 0x1f, 0x54, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void SockAddrInEncodesPerOS(UnixFlavor flavor, byte[] expected)
    {
        int length = SockAddr.Encode(new IPEndPoint(IPAddress.Loopback, 8020), flavor, out SockAddr storage);
        Assert.That(length, Is.EqualTo(16));
        Assert.That(new ReadOnlySpan<byte>(&storage, 16).ToArray(), Is.EqualTo(expected));
        Assert.That(storage.Decode(flavor), Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 8020)));
    }

    [TestCase(UnixFlavor.Linux, (byte)10, (byte)0)]
    [TestCase(UnixFlavor.MacOS, (byte)28, (byte)30)]
    [TestCase(UnixFlavor.FreeBSD, (byte)28, (byte)28)]
    public void SockAddrIn6EncodesPerOS(UnixFlavor flavor, byte first, byte second)
    {
        var endPoint = new IPEndPoint(IPAddress.IPv6Loopback, 443);
        int length = SockAddr.Encode(endPoint, flavor, out SockAddr storage);
        byte[] bytes = new ReadOnlySpan<byte>(&storage, 28).ToArray();
        Assert.That(length, Is.EqualTo(28));
        Assert.That((bytes[0], bytes[1]), Is.EqualTo((first, second)));
        Assert.That((bytes[2], bytes[3]), Is.EqualTo(((byte)1, (byte)0xbb)));
        Assert.That(bytes[23], Is.EqualTo(1), "::1 ends in 1");
        Assert.That(storage.Decode(flavor), Is.EqualTo(endPoint));
    }

    [Test]
    public void IOVectorAndRLimitAreTwoWords()
    {
        Assert.That(sizeof(IOVector), Is.EqualTo(16));
        Assert.That(sizeof(RLimit), Is.EqualTo(16));
    }
}
