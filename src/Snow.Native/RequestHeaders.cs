using System.Collections;
using System.Text;
using Snow.Native.Http;

namespace Snow.Native;

/// <summary>
/// Request headers in arrival order. Lookup by name ignores case; a repeated name keeps every value. Values are
/// decoded as Latin-1, which maps every byte to one char, so no byte is lost or replaced.
/// </summary>
public sealed class RequestHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items;

    private RequestHeaders(List<KeyValuePair<string, string>> items) => _items = items;

    /// <summary>How many header lines the request has (a repeated name counts once per line).</summary>
    public int Count => _items.Count;

    /// <summary>The values of <paramref name="name"/> joined with ", " (RFC 9110 5.3), or null when absent.</summary>
    public string? this[string name]
    {
        get
        {
            string? joined = null;
            foreach (var item in _items)
            {
                if (!string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase)) continue;
                joined = joined is null ? item.Value : joined + ", " + item.Value;
            }
            return joined;
        }
    }

    /// <summary>Every value of <paramref name="name"/>, in order; empty when absent.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        List<string>? values = null;
        foreach (var item in _items)
        {
            if (string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase)) (values ??= new List<string>(1)).Add(item.Value);
        }
        return values ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Whether the request has a header named <paramref name="name"/> (case-insensitive).</summary>
    public bool Contains(string name)
    {
        foreach (var item in _items)
        {
            if (string.Equals(item.Key, name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>The header lines as they arrived, in order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Reads the fields from the parser's table: names as ASCII, values as Latin-1, already trimmed.</summary>
    internal static RequestHeaders FromHead(RequestHead head, ReadOnlySpan<byte> headBytes)
    {
        var items = new List<KeyValuePair<string, string>>(head.HeaderCount);
        for (int i = 0; i < head.HeaderCount; i++)
        {
            string name = Encoding.ASCII.GetString(head.GetHeaderNameRange(i).Of(headBytes));
            string value = Encoding.Latin1.GetString(head.GetHeaderValueRange(i).Of(headBytes));
            items.Add(new(name, value));
        }
        return new RequestHeaders(items);
    }
}

/// <summary>A parsed query string (or form body): names to one or more decoded values, in order.</summary>
public sealed class QueryCollection : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items;

    private QueryCollection(List<KeyValuePair<string, string>> items) => _items = items;

    /// <summary>How many name=value pairs there are (a repeated name counts once per pair).</summary>
    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="name"/>, or null. Names are case-sensitive, as in URLs.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var item in _items)
            {
                if (item.Key == name) return item.Value;
            }
            return null;
        }
    }

    /// <summary>Every value of <paramref name="name"/>, in order (empty if none).</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        var values = new List<string>();
        foreach (var item in _items)
        {
            if (item.Key == name) values.Add(item.Value);
        }
        return values;
    }

    /// <summary>Whether <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => this[name] is not null;

    /// <summary>The pairs in the order they appear.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Parses "a=1&amp;b=x%20y&amp;a=2&amp;flag"; '+' is a space; a bad escape is kept as written.</summary>
    public static QueryCollection Parse(string? query)
    {
        var items = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrEmpty(query)) return new QueryCollection(items);
        if (query[0] == '?') query = query[1..];
        foreach (string pair in query.Split('&'))
        {
            if (pair.Length == 0) continue;
            int equals = pair.IndexOf('=');
            string name = equals < 0 ? pair : pair[..equals];
            string value = equals < 0 ? "" : pair[(equals + 1)..];
            items.Add(new(Decode(name), Decode(value)));
        }
        return new QueryCollection(items);
    }

    private static string Decode(string component)
    {
        string spaced = component.Replace('+', ' ');
        try
        {
            return Uri.UnescapeDataString(spaced);
        }
        catch (UriFormatException)
        {
            return spaced;
        }
    }
}

/// <summary>Reads Cookie request headers ("a=1; b=2").</summary>
internal static class CookieParser
{
    public static IReadOnlyDictionary<string, string> Parse(IReadOnlyList<string> headers)
    {
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string header in headers)
        {
            foreach (string part in header.Split(';'))
            {
                string pair = part.Trim();
                int equals = pair.IndexOf('=');
                if (equals <= 0) continue;
                string name = pair[..equals].Trim();
                string value = pair[(equals + 1)..].Trim();
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
                cookies.TryAdd(name, value);
            }
        }
        return cookies;
    }
}
