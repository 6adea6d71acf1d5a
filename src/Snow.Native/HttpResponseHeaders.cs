using System.Collections;

namespace Snow.Native;

/// <summary>
/// Response headers in the order added; a name may repeat. Every name must be an RFC 9110 token and every value
/// free of CR, LF, NUL and other controls but HTAB: such bytes would let a value inject headers or a second
/// response. Framing headers (Content-Length, Transfer-Encoding) belong to the server and are refused.
/// </summary>
public sealed class HttpResponseHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items = new(4);
    private readonly HttpResponseBase? _owner;

    /// <summary>An empty set of headers.</summary>
    public HttpResponseHeaders()
    {
    }

    internal HttpResponseHeaders(HttpResponseBase owner) => _owner = owner;

    /// <summary>How many header lines there are (a repeated name counts once per line).</summary>
    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="name"/>, or null; setting replaces every value.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var item in _items)
            {
                if (string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase)) return item.Value;
            }
            return null;
        }
        set
        {
            Remove(name);
            if (value is not null) Add(name, value);
        }
    }

    /// <summary>Adds a header line (a name may repeat). Names and values with CR or LF, and the framing headers the server owns (Content-Length, Transfer-Encoding), are refused.</summary>
    public void Add(string name, string value)
    {
        _owner?.ThrowIfReadOnly();
        ValidateName(name);
        ValidateValue(name, value);
        if (IsFraming(name))
        {
            throw new ArgumentException($"The server sets {name} itself from the content; it cannot be set by hand.", nameof(name));
        }
        _items.Add(new(name, value));
    }

    /// <summary>Removes every line named <paramref name="name"/> (case-insensitive); true if there was one.</summary>
    public bool Remove(string name)
    {
        _owner?.ThrowIfReadOnly();
        return _items.RemoveAll(item => string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase)) > 0;
    }

    /// <summary>Whether a header named <paramref name="name"/> is present (case-insensitive).</summary>
    public bool Contains(string name) => this[name] is not null;

    /// <summary>The header lines in the order they were added.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal List<KeyValuePair<string, string>> Items => _items;

    internal static bool IsFraming(string name) =>
        string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase);

    internal static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (char c in name)
        {
            if (!IsTokenChar(c)) throw new ArgumentException($"'{Escape(name)}' is not a valid header name: it must be an RFC 9110 token.", nameof(name));
        }
    }

    internal static void ValidateValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (char c in value)
        {
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff)
            {
                throw new ArgumentException($"The value of header {name} contains a forbidden character (U+{(int)c:X4}); CR, LF, NUL and other controls are refused.", nameof(value));
            }
        }
    }

    internal static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
          or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    private static string Escape(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n");
}
