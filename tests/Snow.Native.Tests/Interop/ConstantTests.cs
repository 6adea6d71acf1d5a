using Snow.Native.Interop;

namespace Snow.Native.Tests.Interop;

/// <summary>The ABI numbers of DESIGN.md's table, per OS, and errno translation both ways.</summary>
// Internal because its test cases take the interop's internal types (NUnit runs internal fixtures).
internal sealed class ConstantTests
{
    [Test]
    public void LinuxSocketAndEpollConstants()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LinuxConstants.SOL_SOCKET, Is.EqualTo(1));
            Assert.That(LinuxConstants.SO_REUSEADDR, Is.EqualTo(2));
            Assert.That(LinuxConstants.SO_REUSEPORT, Is.EqualTo(15));
            Assert.That(LinuxConstants.AF_INET6, Is.EqualTo(10));
            Assert.That(LinuxConstants.MSG_NOSIGNAL, Is.EqualTo(0x4000));
            Assert.That(LinuxConstants.SOCK_NONBLOCK, Is.EqualTo(0x800));
            Assert.That(LinuxConstants.SOCK_CLOEXEC, Is.EqualTo(0x80000));
            Assert.That((LinuxConstants.EPOLL_CTL_ADD, LinuxConstants.EPOLL_CTL_DEL, LinuxConstants.EPOLL_CTL_MOD), Is.EqualTo((1, 2, 3)));
            Assert.That((LinuxConstants.EPOLLIN, LinuxConstants.EPOLLOUT, LinuxConstants.EPOLLERR, LinuxConstants.EPOLLHUP),
                Is.EqualTo((0x1u, 0x4u, 0x8u, 0x10u)));
            Assert.That(LinuxConstants.EPOLLRDHUP, Is.EqualTo(0x2000u));
            Assert.That(LinuxConstants.EPOLLET, Is.EqualTo(0x80000000u));
            Assert.That(LinuxConstants.EPOLL_CLOEXEC, Is.EqualTo(0x80000));
        });
    }

    [Test]
    public void MacOSSocketConstants()
    {
        Assert.Multiple(() =>
        {
            Assert.That(MacOSConstants.SOL_SOCKET, Is.EqualTo(0xffff));
            Assert.That(MacOSConstants.SO_REUSEADDR, Is.EqualTo(0x4));
            Assert.That(MacOSConstants.SO_REUSEPORT, Is.EqualTo(0x200));
            Assert.That(MacOSConstants.AF_INET6, Is.EqualTo(30));
            Assert.That(MacOSConstants.SO_NOSIGPIPE, Is.EqualTo(0x1022));
            Assert.That(MacOSConstants.O_NONBLOCK, Is.EqualTo(0x4));
            Assert.That(MacOSConstants.EVFILT_USER, Is.EqualTo(-10));
        });
    }

    [Test]
    public void FreeBSDDiffersFromMacOSWhereItShould()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FreeBSDConstants.EVFILT_USER, Is.EqualTo(-11));
            Assert.That(FreeBSDConstants.AF_INET6, Is.EqualTo(28));
            Assert.That(FreeBSDConstants.SOL_SOCKET, Is.EqualTo(MacOSConstants.SOL_SOCKET));
        });
    }

    [Test]
    public void KqueueConstants()
    {
        Assert.Multiple(() =>
        {
            Assert.That((CommonConstants.EVFILT_READ, CommonConstants.EVFILT_WRITE), Is.EqualTo(((short)-1, (short)-2)));
            Assert.That(CommonConstants.EV_ADD, Is.EqualTo(0x1));
            Assert.That(CommonConstants.EV_DELETE, Is.EqualTo(0x2));
            Assert.That(CommonConstants.EV_ONESHOT, Is.EqualTo(0x10));
            Assert.That(CommonConstants.EV_CLEAR, Is.EqualTo(0x20));
            Assert.That(CommonConstants.EV_RECEIPT, Is.EqualTo(0x40));
            Assert.That(CommonConstants.EV_ERROR, Is.EqualTo(0x4000));
            Assert.That(CommonConstants.EV_EOF, Is.EqualTo(0x8000));
            Assert.That(CommonConstants.NOTE_TRIGGER, Is.EqualTo(0x01000000u));
        });
    }

    [TestCase(Errno.EINTR, 4, 4)]
    [TestCase(Errno.EAGAIN, 11, 35)]
    [TestCase(Errno.EMFILE, 24, 24)]
    [TestCase(Errno.ENFILE, 23, 23)]
    [TestCase(Errno.EPIPE, 32, 32)]
    [TestCase(Errno.ECONNABORTED, 103, 53)]
    [TestCase(Errno.ECONNRESET, 104, 54)]
    [TestCase(Errno.ENOTCONN, 107, 57)]
    [TestCase(Errno.EINPROGRESS, 115, 36)]
    [TestCase(Errno.EADDRINUSE, 98, 48)]
    public void ErrnoMapsBothWaysPerOS(Errno errno, int linux, int bsd)
    {
        Assert.Multiple(() =>
        {
            Assert.That(LinuxErrno.ToPortable(linux), Is.EqualTo(errno));
            Assert.That(LinuxErrno.ToRaw(errno), Is.EqualTo(linux));
            Assert.That(BsdErrno.ToPortable(bsd, macOS: true), Is.EqualTo(errno));
            Assert.That(BsdErrno.ToPortable(bsd, macOS: false), Is.EqualTo(errno));
            Assert.That(BsdErrno.ToRaw(errno, macOS: true), Is.EqualTo(bsd));
        });
    }

    // The highest errno each OS defines: Linux EHWPOISON 133 (asm-generic, x86_64 and arm64; MIPS numbers up to
    // EDQUOT 1133), macOS ELAST 106 (EQFULL), FreeBSD ELAST 97 (EINTEGRITY).
    private const int HighestLinuxErrno = 133;
    private const int HighestLinuxMipsErrno = 1133;
    private const int HighestMacOSErrno = 106;
    private const int HighestFreeBSDErrno = 97;

    [Test]
    public void NoErrnoValueIsARawNumberThatMeansAnotherError()
    {
        Assert.Multiple(() =>
        {
            foreach (Errno errno in Enum.GetValues<Errno>())
            {
                int value = (int)errno;
                if (value <= HighestLinuxErrno)
                {
                    Assert.That(LinuxErrno.ToPortable(value), Is.EqualTo(errno), $"{errno} = {value} is Linux's raw {value}");
                }
                if (value <= HighestMacOSErrno)
                {
                    Assert.That(BsdErrno.ToPortable(value, macOS: true), Is.EqualTo(errno), $"{errno} = {value} is macOS's raw {value}");
                }
                if (value <= HighestFreeBSDErrno)
                {
                    Assert.That(BsdErrno.ToPortable(value, macOS: false), Is.EqualTo(errno), $"{errno} = {value} is FreeBSD's raw {value}");
                }
            }
            // The other way round: a raw number cast by mistake names nothing, except 0, which means success anyway.
            for (int raw = 1; raw <= HighestLinuxMipsErrno; raw++)
            {
                Assert.That(Enum.IsDefined((Errno)raw), Is.False, $"raw {raw} cast to Errno reads as {(Errno)raw}");
            }
            Assert.That((Errno)0, Is.EqualTo(Errno.Success));
        });
    }

    [Test]
    public void EOPNOTSUPPDiffersBetweenMacOSAndFreeBSD()
    {
        Assert.That(BsdErrno.ToPortable(102, macOS: true), Is.EqualTo(Errno.EOPNOTSUPP));
        Assert.That(BsdErrno.ToPortable(45, macOS: false), Is.EqualTo(Errno.EOPNOTSUPP));
        Assert.That(LinuxErrno.ToPortable(95), Is.EqualTo(Errno.EOPNOTSUPP));
    }

    [Test]
    public void UnknownNumbersStayUnknown()
    {
        Assert.That(LinuxErrno.ToPortable(9999), Is.EqualTo(Errno.Unknown));
        Assert.That(LinuxErrno.ToPortable(0), Is.EqualTo(Errno.Success));
    }

    [Test]
    public void ARealFailureIsReadFromErrno()
    {
        int result = Libc.Close(-1);
        Errno errno = ErrnoInfo.Last();
        Assert.That(result, Is.EqualTo(-1));
        Assert.That(errno, Is.EqualTo(Errno.EBADF));
        var exception = ErrnoException.FromLastError("close");
        Assert.That(exception.Message, Does.StartWith("close failed: EBADF"));
    }

    [Test]
    public void TheResolverFindsTheCLibrary()
    {
        string? name = Libraries.ResolvedName();
        Assert.That(name, Is.Not.Null);
        if (OperatingSystem.IsLinux()) Assert.That(name, Does.StartWith("libc.so"));
        if (OperatingSystem.IsMacOS()) Assert.That(name, Does.Contain("libSystem"));
    }

    [Test]
    public void FcntlSetsNonBlockingOnARealSocket()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        Assert.That(Libc.SetNonBlocking(fd), Is.EqualTo(0));
        Assert.That(Libc.Fcntl(fd, CommonConstants.F_GETFL, 0) & SysConst.O_NONBLOCK, Is.Not.Zero);
        Assert.That(Libc.SetCloseOnExec(fd), Is.EqualTo(0));
        Assert.That(Libc.Fcntl(fd, CommonConstants.F_GETFD, 0) & CommonConstants.FD_CLOEXEC, Is.Not.Zero);
    }
}
