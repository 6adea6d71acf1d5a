using Microsoft.Extensions.Logging;
using Snow.Native.Execution;
using Snow.Native.Http;
using Snow.Native.Transport;

namespace Snow.Native.Http1;

/// <summary>
/// HTTP/1.1 on one transport: parses requests back to back from its input (pipelining), reads their bodies,
/// has each executed, and writes the responses in request order; every response ready after one read goes out in
/// one send. Keep-alive is decided in one place (<see cref="Respond"/>); a rejected request gets its short answer
/// and the connection closes. While a request waits (parked) or its response streams, further pipelined input
/// waits in the transport. An upgrade response hands the transport to another protocol. It never names a socket:
/// bytes come from <see cref="ConnectionTransport.Input"/> and go to <see cref="ConnectionTransport.Output"/>.
/// </summary>
internal sealed partial class Http1Connection : IConnectionProtocol, IExecutionOwner, IStreamOwner
{
    private enum State : byte
    {
        /// <summary>Waiting for (or parsing) a request head.</summary>
        Head,
        /// <summary>Buffering the body of a request whose handler runs once it is complete.</summary>
        Body,
        /// <summary>A handler is running (parked on a future or a task), possibly reading a streamed body.</summary>
        Executing,
        /// <summary>A streamed response is being written.</summary>
        Streaming,
        /// <summary>The last response is written; the transport closes once it is sent.</summary>
        Closing,
        /// <summary>Another protocol has the transport.</summary>
        Upgraded,
        Closed,
    }

    private readonly Http1Context _context;
    private readonly ConnectionTransport _transport;
    private State _state;
    private bool _keepAlive;
    private bool _pausedForOutput;
    private HttpRequest? _request;
    private Route? _route;
    private HttpResponseBase? _answer;
    private RequestExecution? _execution;
    private StreamingResponse? _stream;

    private Http1Connection(Http1Context context, ConnectionTransport transport)
    {
        _context = context;
        _transport = transport;
    }

    /// <summary>Starts serving HTTP/1.1 on a new connection: the first request head must arrive in time.</summary>
    public static Http1Connection Start(Http1Context context, ConnectionTransport transport)
    {
        var connection = new Http1Connection(context, transport);
        transport.Start(connection);
        transport.SetTimer(TimerReason.RequestHeaders, context.RequestHeadersMilliseconds);
        return connection;
    }

    public void OnInput()
    {
        if (_state == State.Head && _request is null && _transport.TimerReason == TimerReason.KeepAlive)
        {
            // The first byte of the next request: from now on its head has the head timeout to arrive.
            _transport.SetTimer(TimerReason.RequestHeaders, _context.RequestHeadersMilliseconds);
        }
        if (_streamingBody)
        {
            if (_bodyReader!.HasPendingRead) ServeBodyRead();
            GrowStreamBuffer();
        }
        Process();
    }

    public void OnOutputSent()
    {
        _stream?.OnSent(_transport.OutputPending);
        if (_pausedForOutput && !_transport.IsOutputBlocked)
        {
            _pausedForOutput = false;
            _transport.ResumeReading();
            Process(); // pipelined requests that waited for the client to take its responses
        }
    }

    public void OnPeerClosed()
    {
        switch (_state)
        {
            case State.Executing:
            case State.Streaming:
                _transport.Close(); // the client left while its request was parked or its response streamed
                return;
            case State.Head:
            case State.Body:
                // Whatever was complete has been answered; nothing more can come.
                _keepAlive = false;
                if (_transport.Output.IsEmpty) _transport.Close();
                else
                {
                    _state = State.Closing;
                    EndExchange();
                    _transport.CloseWhenFlushed();
                }
                return;
        }
    }

    public void OnTimeout(TimerReason reason)
    {
        switch (reason)
        {
            case TimerReason.KeepAlive:
                _transport.Close();
                return;
            case TimerReason.RequestHeaders when _request is null && _transport.Input.IsEmpty:
                _transport.Close(); // never sent a byte of another request
                return;
            case TimerReason.RequestHeaders:
                Reject(408, "Request Timeout: the request head did not arrive in time");
                return;
            case TimerReason.RequestBodyIdle:
                Reject(408, "Request Timeout: the request body stopped arriving");
                return;
            case TimerReason.MinDataRate:
                Reject(408, "Request Timeout: the request body arrived below the minimum data rate");
                return;
        }
    }

    public void OnShutdown()
    {
        if (_state == State.Head && _request is null && _transport.Input.IsEmpty)
        {
            _state = State.Closing;
            _transport.CloseWhenFlushed(); // idle: closes now, or once its last response is out
        }
        // Busy connections answer with Connection: close (Respond reads Draining).
    }

    public void OnClosed()
    {
        State previous = _state;
        _state = State.Closed;
        FailBody(new IOException("The connection closed before the request body was complete."));
        if (_execution is not null || _streamingBody)
        {
            _request?.MarkAborted();
            // The handler may still hold the request: it is not reused.
            _execution?.Abandon();
            _execution = null;
            _request = null;
        }
        if (previous == State.Streaming)
        {
            _request?.MarkAborted();
            _stream?.Abort();
            _stream = null;
            _request = null; // its producer may still read it
        }
        ReleaseBodyCharge();
        if (_request is not null)
        {
            _context.ReturnRequest(_request);
            _request = null;
        }
    }

    public void OnResponseReady(RequestExecution execution, HttpResponseBase response)
    {
        if (!ReferenceEquals(execution, _execution) || _state != State.Executing)
        {
            execution.Release();
            return;
        }
        _execution = null;
        execution.Release();
        Respond(response);
        Process();
        _transport.Flush();
    }

    private void Process()
    {
        while (true)
        {
            switch (_state)
            {
                case State.Head:
                    if (_transport.IsOutputBlocked)
                    {
                        // Responses wait for a slow client: stop reading its requests until it catches up.
                        _pausedForOutput = true;
                        _transport.PauseReading();
                        return;
                    }
                    if (_transport.Input.IsEmpty || !ParseHead()) return;
                    break;
                case State.Body:
                    if (!ReadBody()) return;
                    break;
                default:
                    return;
            }
        }
    }

    private bool ParseHead()
    {
        HttpRequest request = _request ??= _context.RentRequest();
        ref InputBuffer input = ref _transport.Input;
        HttpParseStatus status = HttpRequestParser.TryParseHead(input.Span, _context.Limits, request.Head, ref request.Scanned, out HttpRequestError error);
        if (status == HttpParseStatus.NeedMoreData)
        {
            if (input.IsFull)
            {
                if (input.Capacity >= _context.MaxHeadBuffer) Reject(431, "Request Header Fields Too Large");
                else input.Resize(_transport.Pool, Math.Min(input.Capacity * 2, _context.MaxHeadBuffer));
            }
            return false;
        }
        if (status == HttpParseStatus.Error)
        {
            Reject(error.StatusCode, error.Reason);
            return false;
        }

        RequestHead head = request.Head;
        int headLength = head.HeadLength;
        _keepAlive = head.KeepAlive;
        request.Bind(input.Array!, input.Start, input.Start + headLength, 0);
        request.Tls = _transport.Tls; // the client certificate, for handlers that ask
        _route = RequestExecution.Route(_context.Execution, request, out _answer);
        if (!head.HasBody)
        {
            Dispatch(bodyLength: 0, requestLength: headLength);
            return true;
        }
        if (_route is { StreamBody: true })
        {
            StartStreamedBody();
            return true;
        }
        BeginBufferedBody();
        return true;
    }

    /// <summary>Hands the complete request to its handler (or gives the routing answer) and writes what comes back.</summary>
    private void Dispatch(int bodyLength, int requestLength)
    {
        HttpRequest request = _request!;
        ref InputBuffer input = ref _transport.Input;
        // Bound once the head was parsed; a body may since have moved the buffer.
        if (request.Head.HasBody) request.Bind(input.Array!, input.Start, input.Start + request.Head.HeadLength, bodyLength);
        _transport.ClearTimer();
        HttpResponseBase? response = _answer;
        Route? route = _route;
        _answer = null;
        _route = null;
        if (route is not null) response = RequestExecution.Start(_context.Execution, request, route, this, out _execution);
        input.Consume(requestLength);
        if (response is null)
        {
            // Parked: the request keeps a private copy, so the read buffer can go back to the pool.
            request.Detach();
            ReleaseBodyBuffer();
            _state = State.Executing;
            return;
        }
        Respond(response);
        ReleaseBodyBuffer();
    }

    /// <summary>Writes the response to the current request and gets ready for the next: the one place keep-alive is decided.</summary>
    private void Respond(HttpResponseBase response)
    {
        HttpRequest request = _request!;
        response.MarkReadOnly(); // it may be answering other requests from now on
        bool head = request.IsHeadRequest;
        bool http10KeepAlive = _keepAlive && !request.IsHttp11;
        if (_transport.PeerClosed || _context.Draining || BodyUnfinished) _keepAlive = false;
        if (response.HasHeaders && string.Equals(response.Headers["Connection"], "close", StringComparison.OrdinalIgnoreCase))
        {
            _keepAlive = false;
        }
        if (response is StreamingResponse stream)
        {
            BeginStream(stream, head, http10KeepAlive);
            return;
        }
        if (response is not HttpResponse content)
        {
            BeginUpgrade((UpgradeResponse)response);
            return;
        }
        ResponseWriter.Write(ref _transport.Output, _transport.Pool, content, _keepAlive, http10KeepAlive, head,
            _context.Options.AddServerHeader, _context.Date);
        EndExchange();
        ReadyForNext();
    }

    /// <summary>After a response: wait for the next request, or close once the response is out.</summary>
    private void ReadyForNext()
    {
        if (!_keepAlive)
        {
            _state = State.Closing;
            _transport.CloseWhenFlushed();
            return;
        }
        _state = State.Head;
        if (_transport.Input.IsEmpty) _transport.SetTimer(TimerReason.KeepAlive, _context.KeepAliveMilliseconds);
        else _transport.SetTimer(TimerReason.RequestHeaders, _context.RequestHeadersMilliseconds);
    }

    /// <summary>
    /// The exchange is over: the request object goes back to the loop's pool, or, when a pipelined request is
    /// already waiting in the input, is kept (reset) for it.
    /// </summary>
    private void EndExchange()
    {
        EndBody();
        if (_request is null) return;
        if (_keepAlive && !_transport.Input.IsEmpty && _state is State.Head or State.Body or State.Executing)
        {
            _request.Reset();
            return;
        }
        _context.ReturnRequest(_request);
        _request = null;
    }

    /// <summary>Answers a request the server refuses, then closes once the answer is out.</summary>
    private void Reject(int status, string reason)
    {
        if (_state is State.Closed or State.Closing or State.Upgraded) return;
        Http1Log.RequestRejected(_context.Logger, status, reason);
        FailBody(new IOException($"The request was rejected: {status} {reason}"));
        if (_execution is not null || _streamingBody)
        {
            _request?.MarkAborted();
            _execution?.Abandon();
            _execution = null;
            _request = null; // the handler may still hold it
        }
        _keepAlive = false;
        ResponseWriter.WriteError(ref _transport.Output, _transport.Pool, status, reason, _context.Options.AddServerHeader, _context.Date);
        ReleaseBodyCharge();
        EndExchange();
        _route = null;
        _answer = null;
        _state = State.Closing;
        _transport.CloseWhenFlushed(_context.LingerMilliseconds);
    }

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;
}
