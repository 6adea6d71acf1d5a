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
