using System.Net;
using System.Net.Http;
using Snow.Native.Server;
using Snow.Native.Transport;

namespace Snow.Native.Testing;

/// <summary>
/// One request of the test client on its own in-process connection: the request's bytes are posted to a loop,
/// which serves them with the real HTTP/1.1 protocol; the response is parsed as it is sent. The response message
/// is handed out once its head is in (its content then streams as the body arrives); once the body is complete
/// the client closes its side and the connection ends.
/// </summary>
internal sealed class TestExchange : ITransportPeer, ITestResponseSink
{
    private readonly HttpRequestMessage _request;
    private readonly TestResponseParser _parser;
    private readonly TaskCompletionSource<HttpResponseMessage> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PipeTransport? _transport;
    private TestResponseStream? _body;
    private volatile bool _aborted;

    public TestExchange(HttpRequestMessage request)
    {
        _request = request;
        _parser = new TestResponseParser(this, request.Method == HttpMethod.Head);
    }

    /// <summary>Completes when the response head has arrived.</summary>
    public Task<HttpResponseMessage> Response => _response.Task;

    /// <summary>Any thread: opens the connection on <paramref name="context"/>'s loop and sends <paramref name="bytes"/>.</summary>
    public void Start(LoopContext context, byte[] bytes) =>
        context.Loop.Post(static state =>
        {
            var (exchange, context, bytes) = ((TestExchange, LoopContext, byte[]))state!;
            exchange.Open(context, bytes);
        }, (this, context, bytes));

    /// <summary>Any thread: the caller gave up (cancelled, or disposed the body before its end): the connection closes.</summary>
    public void Abort(Exception reason)
    {
        _aborted = true;
        _response.TrySetException(reason);
        Volatile.Read(ref _transport)?.Post(static transport => transport.Close());
    }

    private void Open(LoopContext context, byte[] bytes)
    {
        if (_aborted) return;
        if (context.Draining)
        {
            _response.TrySetException(new HttpRequestException("The SnowApp is stopping: it takes no new connection."));
            return;
        }
        if (!context.Gate.TryEnter())
        {
            _response.TrySetException(new HttpRequestException("The SnowApp is at MaxConnections: the connection was refused."));
            return;
        }
        PipeTransport transport;
        try
        {
            transport = context.Connect(this);
        }
        catch (Exception e)
        {
            _response.TrySetException(new HttpRequestException("The SnowApp could not take the connection.", e));
            return;
        }
        Volatile.Write(ref _transport, transport);
        transport.Feed(bytes);
    }

    void ITransportPeer.OnSent(ReadOnlySpan<byte> bytes)
    {
        if (_parser.IsComplete) return; // nothing should follow the response: this client sent one request
        try
        {
            _parser.Feed(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or OverflowException)
        {
            Fail(new HttpRequestException($"The test client could not read the response: {e.Message}", e));
            _transport?.Post(static transport => transport.Close());
        }
    }

    void ITransportPeer.OnWriteShut() => EndOfResponseStream();

    void ITransportPeer.OnClosed() => EndOfResponseStream();

    void ITestResponseSink.OnHead(Version version, int status, string reason, List<KeyValuePair<string, string>> headers)
    {
        _body = new TestResponseStream(() => Abort(new OperationCanceledException("The response body was disposed before its end.")));
        var content = new StreamContent(_body);
        var response = new HttpResponseMessage((HttpStatusCode)status)
        {
            Version = version,
            ReasonPhrase = reason,
            RequestMessage = _request,
            Content = content,
        };
        foreach (var (name, value) in headers)
        {
            if (!response.Headers.TryAddWithoutValidation(name, value)) content.Headers.TryAddWithoutValidation(name, value);
        }
        _response.TrySetResult(response);
    }

    void ITestResponseSink.OnBody(ReadOnlySpan<byte> bytes) => _body!.Append(bytes);

    void ITestResponseSink.OnComplete()
    {
        _body!.Complete();
        // The client's side ends (posted: this runs inside the transport's send).
        _transport?.Post(static transport => transport.FeedEnd());
    }

    private void EndOfResponseStream()
    {
        if (_parser.IsComplete || _parser.End()) return;
        Fail(new HttpRequestException("The server closed the connection before the response was complete."));
    }

    private void Fail(HttpRequestException failure)
    {
        if (!_parser.HasHead) _response.TrySetException(failure);
        else _body?.Fail(failure);
    }
}
