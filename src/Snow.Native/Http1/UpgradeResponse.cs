using Snow.Native.Transport;

namespace Snow.Native.Http1;

/// <summary>
/// A handler's answer that takes the connection away from HTTP/1.1: the server writes this 101 head (its headers
/// say what the connection becomes, for example Upgrade and Connection), then hands the transport to the protocol
/// <see cref="CreateProtocol"/> makes, with whatever input arrived behind the request. Only for HTTP/1.1 requests.
/// </summary>
internal sealed class UpgradeResponse : HttpResponseBase
{
    public UpgradeResponse(Func<ConnectionTransport, IConnectionProtocol> createProtocol)
        : base(101, null)
    {
        CreateProtocol = createProtocol;
    }

    public Func<ConnectionTransport, IConnectionProtocol> CreateProtocol { get; }
}
