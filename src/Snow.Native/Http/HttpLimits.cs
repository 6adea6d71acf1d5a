namespace Snow.Native;

/// <summary>
/// Bounds on what a client may send, so that no request can make the server buffer or work without limit.
/// The defaults are Kestrel's (which took them from nginx, Apache and IIS).
/// </summary>
public sealed class HttpLimits
{
    private int _maxRequestLineBytes = 8 * 1024;
    private int _maxRequestHeadersTotalBytes = 32 * 1024;
    private int _maxRequestHeaderCount = 100;
    private long _maxRequestBodyBytes = 30_000_000;
    private int _maxChunkSizeLineBytes = 4 * 1024;

    /// <summary>
    /// Largest request line, counting method, target, version and the terminating CRLF. Beyond it: 414.
    /// Empty lines before the request line may take up at most this many bytes as well (beyond it: 400).
    /// </summary>
    public int MaxRequestLineBytes
    {
        get => _maxRequestLineBytes;
        set { ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value); _maxRequestLineBytes = value; }
    }

    /// <summary>
    /// Largest header section: all header field lines with their CRLFs, not counting the request line or the
    /// empty line that ends the head. Beyond it: 431. The same bound applies to a chunked body's trailer section.
    /// </summary>
    public int MaxRequestHeadersTotalBytes
    {
        get => _maxRequestHeadersTotalBytes;
        set { ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value); _maxRequestHeadersTotalBytes = value; }
    }

    /// <summary>Most header fields in one request (and most trailer fields in a chunked body). Beyond it: 431.</summary>
    public int MaxRequestHeaderCount
    {
        get => _maxRequestHeaderCount;
        set { ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value); _maxRequestHeaderCount = value; }
    }

    /// <summary>
    /// Largest request body. A Content-Length above it is refused at once; a chunked body is refused as soon as
    /// a chunk would take the decoded total above it. Either way: 413. Set <see cref="long.MaxValue"/> for no bound.
    /// </summary>
    public long MaxRequestBodyBytes
    {
        get => _maxRequestBodyBytes;
        set { ArgumentOutOfRangeException.ThrowIfNegative(value); _maxRequestBodyBytes = value; }
    }

    /// <summary>
    /// Largest chunk-size line of a chunked body, counting the hexadecimal size and any chunk extensions but not
    /// the CRLF. Extensions carry no meaning for us, so this only stops a client from streaming them forever. Beyond it: 400.
    /// </summary>
    public int MaxChunkSizeLineBytes
    {
        get => _maxChunkSizeLineBytes;
        set { ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value); _maxChunkSizeLineBytes = value; }
    }
}
