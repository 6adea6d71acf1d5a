using System.Globalization;
using System.Text;

namespace Snow.Native;

/// <summary>SameSite attribute values (RFC 6265bis).</summary>
public enum SameSiteMode
{
    /// <summary>No SameSite attribute: the browser's default.</summary>
    Unspecified,
    /// <summary>SameSite=Lax.</summary>
    Lax,
    /// <summary>SameSite=Strict.</summary>
    Strict,
    /// <summary>SameSite=None (browsers require Secure with it).</summary>
    None,
}

/// <summary>One Set-Cookie header (RFC 6265): a name, a value and the attributes a browser honours.</summary>
public sealed class ResponseCookie
{
    /// <summary>A cookie named <paramref name="name"/> with <paramref name="value"/> (both checked for characters a Set-Cookie header cannot carry).</summary>
    public ResponseCookie(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        foreach (char c in name)
        {
            if (!HttpResponseHeaders.IsTokenChar(c)) throw new ArgumentException($"'{name}' is not a valid cookie name.", nameof(name));
        }
        foreach (char c in value)
        {
            // cookie-octet: visible ASCII except DQUOTE, comma, semicolon and backslash
            if (c < 0x21 || c > 0x7e || c is '"' or ',' or ';' or '\\')
            {
                throw new ArgumentException($"The value of cookie {name} contains a character a cookie cannot hold (U+{(int)c:X4}); encode it first, for example with Uri.EscapeDataString.", nameof(value));
            }
        }
        Name = name;
        Value = value;
    }

    /// <summary>The cookie's name.</summary>
    public string Name { get; }

    /// <summary>The cookie's value.</summary>
    public string Value { get; }

    /// <summary>The Path attribute, or null.</summary>
    public string? Path { get; set { ThrowIfReadOnly(); field = CheckAttribute(value, nameof(Path)); } }

    /// <summary>The Domain attribute, or null.</summary>
    public string? Domain { get; set { ThrowIfReadOnly(); field = CheckAttribute(value, nameof(Domain)); } }

    /// <summary>The Expires attribute, or null.</summary>
    public DateTimeOffset? Expires { get; set { ThrowIfReadOnly(); field = value; } }

    /// <summary>The Max-Age attribute, or null.</summary>
    public TimeSpan? MaxAge { get; set { ThrowIfReadOnly(); field = value; } }

    /// <summary>The Secure attribute.</summary>
    public bool Secure { get; set { ThrowIfReadOnly(); field = value; } }

    /// <summary>The HttpOnly attribute.</summary>
    public bool HttpOnly { get; set { ThrowIfReadOnly(); field = value; } }

    /// <summary>The SameSite attribute.</summary>
    public SameSiteMode SameSite { get; set { ThrowIfReadOnly(); field = value; } }

    /// <summary>The header value: "name=value; Path=/; Max-Age=60; HttpOnly ...".</summary>
    private volatile bool _readOnly;

    /// <summary>True once the response it belongs to is being sent: its attributes can no longer change.</summary>
    public bool IsReadOnly => _readOnly;

    internal void MarkReadOnly() => _readOnly = true;

    private void ThrowIfReadOnly()
    {
        if (_readOnly) throw new InvalidOperationException("This cookie's response is being sent: the cookie can no longer be changed.");
    }

    /// <summary>The Set-Cookie header's value.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Name.Length + Value.Length + 64);
        text.Append(Name).Append('=').Append(Value);
        if (Path is not null) text.Append("; Path=").Append(Path);
        if (Domain is not null) text.Append("; Domain=").Append(Domain);
        if (Expires is DateTimeOffset expires)
        {
            text.Append("; Expires=").Append(expires.UtcDateTime.ToString("r", CultureInfo.InvariantCulture));
        }
        if (MaxAge is TimeSpan maxAge)
        {
            text.Append("; Max-Age=").Append(((long)Math.Max(0, maxAge.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }
        if (Secure || SameSite == SameSiteMode.None) text.Append("; Secure"); // browsers drop SameSite=None without Secure
        if (HttpOnly) text.Append("; HttpOnly");
        if (SameSite != SameSiteMode.Unspecified) text.Append("; SameSite=").Append(SameSite.ToString());
        return text.ToString();
    }

    private static string? CheckAttribute(string? value, string attribute)
    {
        if (value is null) return null;
        foreach (char c in value)
        {
            if (c < 0x20 || c == 0x7f || c == ';' || c > 0x7e)
            {
                throw new ArgumentException($"The cookie {attribute} contains a forbidden character (U+{(int)c:X4}).", attribute);
            }
        }
        return value;
    }
}
