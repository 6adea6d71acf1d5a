namespace Snow.Native.Http;

/// <summary>Outcome of one incremental parsing step.</summary>
internal enum HttpParseStatus
{
    /// <summary>The input ends before the element does; call again with more bytes.</summary>
    NeedMoreData,

    /// <summary>The element was parsed completely.</summary>
    Complete,

    /// <summary>The input is not acceptable; the error says which status to answer before closing.</summary>
    Error,
}

/// <summary>Why a request was refused: the status code to answer and a short fixed reason for logs.</summary>
/// <remarks>Reasons are string literals so that refusing a request allocates nothing.</remarks>
internal readonly record struct HttpRequestError(int StatusCode, string Reason);
