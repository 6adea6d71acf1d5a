namespace Snow.Native.Http;

/// <summary>The request methods recognised without allocating; anything else is <see cref="Custom"/>.</summary>
internal enum HttpMethodKind : byte
{
    Custom,
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Trace,
    Connect,
}

/// <summary>The names of the recognised methods, as sent (interned literals: naming one allocates nothing).</summary>
internal static class HttpMethodNames
{
    /// <summary>The method's name, or null for <see cref="HttpMethodKind.Custom"/>.</summary>
    public static string? Of(HttpMethodKind kind) => kind switch
    {
        HttpMethodKind.Get => "GET",
        HttpMethodKind.Head => "HEAD",
        HttpMethodKind.Post => "POST",
        HttpMethodKind.Put => "PUT",
        HttpMethodKind.Delete => "DELETE",
        HttpMethodKind.Options => "OPTIONS",
        HttpMethodKind.Patch => "PATCH",
        HttpMethodKind.Trace => "TRACE",
        HttpMethodKind.Connect => "CONNECT",
        _ => null,
    };
}

/// <summary>The four request-target forms of RFC 9112 section 3.2.</summary>
internal enum RequestTargetForm : byte
{
    /// <summary>"/path?query": the usual form.</summary>
    Origin,

    /// <summary>"http://host/path?query": sent to proxies, and accepted by origin servers.</summary>
    Absolute,

    /// <summary>"*": only with OPTIONS, meaning the server as a whole.</summary>
    Asterisk,

    /// <summary>"host:port": only with CONNECT.</summary>
    Authority,
}

/// <summary>The HTTP versions this server speaks.</summary>
internal enum HttpVersionKind : byte
{
    Http10,
    Http11,
}
