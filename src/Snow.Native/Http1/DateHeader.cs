using System.Buffers.Text;
using Snow.Native.Loop;

namespace Snow.Native.Http1;

/// <summary>
/// "Date: Tue, 24 Nov 2026 18:53:04 GMT\r\n", formatted at most once a second per loop. Whether a second has
/// passed is read from the loop's clock, which the loop reads once per wake-up anyway: reading the wall clock for
/// every response cost a clock_gettime each (3% of a pipelined loop's time).
/// </summary>
internal sealed class DateHeader(EventLoop? loop = null)
{
    private readonly byte[] _line = new byte[6 + 29 + 2];
    private long _refreshAt = long.MinValue; // loop milliseconds at which the next second begins

    public ReadOnlySpan<byte> Current
    {
        get
        {
            long now = loop?.NowMilliseconds ?? EventLoop.ClockMilliseconds();
            if (now >= _refreshAt) Refresh(now);
            return _line;
        }
    }

    private void Refresh(long now)
    {
        DateTime utc = DateTime.UtcNow;
        "Date: "u8.CopyTo(_line);
        Utf8Formatter.TryFormat(utc, _line.AsSpan(6), out _, new System.Buffers.StandardFormat('R'));
        _line[^2] = (byte)'\r';
        _line[^1] = (byte)'\n';
        _refreshAt = now + (1000 - utc.Millisecond);
    }
}
