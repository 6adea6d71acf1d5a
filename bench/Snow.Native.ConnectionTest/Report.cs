using System.Globalization;

namespace Snow.Native.ConnectionTest;

/// <summary>
/// The machine-readable result: key=value lines in the order they were measured, printed once at the end
/// (also after a timeout, with whatever was measured by then).
/// </summary>
internal sealed class Report
{
    private readonly List<KeyValuePair<string, string>> _lines = [];

    public void Add(string key, long value) => Add(key, value.ToString(CultureInfo.InvariantCulture));

    public void Add(string key, double value) => Add(key, value.ToString("0.##", CultureInfo.InvariantCulture));

    public void Add(string key, string value)
    {
        int existing = _lines.FindIndex(line => line.Key == key);
        if (existing >= 0) _lines[existing] = new(key, value);
        else _lines.Add(new(key, value));
    }

    public void WriteTo(TextWriter output)
    {
        foreach ((string key, string value) in _lines) output.WriteLine($"{key}={value}");
        output.Flush();
    }
}
