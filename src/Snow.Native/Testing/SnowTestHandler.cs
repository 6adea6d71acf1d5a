using System.Net.Http;

namespace Snow.Native.Testing;

/// <summary>
/// The test client's handler: each request goes through the app's real HTTP/1.1 protocol on an in-process
/// connection of one of its loops (taken in turn): no port, no socket, nothing leaves the process.
/// </summary>
internal sealed class SnowTestHandler(SnowApp app) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] bytes = await TestRequestWriter.SerializeAsync(request, cancellationToken).ConfigureAwait(false);
        var exchange = new TestExchange(request);
        using (cancellationToken.Register(static state =>
        {
            var (exchange, token) = ((TestExchange, CancellationToken))state!;
            exchange.Abort(new TaskCanceledException("The request was cancelled.", null, token));
        }, (exchange, cancellationToken)))
        {
            exchange.Start(app.NextTestLoop(), bytes);
            return await exchange.Response.ConfigureAwait(false);
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();
}
