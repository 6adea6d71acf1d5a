using System.Buffers.Text;

namespace Snow.Native.Http1;

/// <summary>"Date: Tue, 24 Nov 2026 18:53:04 GMT\r\n", formatted at most once a second per loop.</summary>
internal sealed class DateHeader
{
    private readonly byte[] _line = new byte[6 + 29 + 2];
    private long _second = -1;

    public ReadOnlySpan<byte> Current
    {
        get
        {
            DateTime now = DateTime.UtcNow;
            long second = now.Ticks / TimeSpan.TicksPerSecond;
            if (second != _second)
            {
                "Date: "u8.CopyTo(_line);
                Utf8Formatter.TryFormat(now, _line.AsSpan(6), out _, new System.Buffers.StandardFormat('R'));
                _line[^2] = (byte)'\r';
                _line[^1] = (byte)'\n';
                _second = second;
            }
            return _line;
        }
    }
}
