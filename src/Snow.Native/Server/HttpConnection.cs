using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Snow.Native.Http;
using Snow.Native.Interop;
using Snow.Native.Loop;
using Snow.Native.Polling;

namespace Snow.Native.Server;

/// <summary>
/// One client connection: reads into a pooled buffer, parses requests back to back (pipelining), runs their
/// handlers, and sends every response that is ready after one read in one send. A handler that does not answer at
/// once parks the connection: its request is copied out of the shared buffer, the buffer goes back to the pool,
/// and nothing runs until the future or task completes. A <see cref="StreamingResponse"/> keeps the connection in
/// <see cref="State.Streaming"/> from its head to its last chunk: its writes are pumped in from other threads through
/// the loop, and no further request is answered until it is complete. Level-triggered readiness throughout.
/// </summary>
internal sealed class HttpConnection : IReadinessHandler, IFutureWaiter, IStreamOwner
{
    private enum State
    {
        ReadingHead,
        ReadingBody,
        Handling,
        Streaming,
        Closing,
        Lingering,
        Closed,
    }

    private readonly LoopContext _context;
    private readonly int _fd;
    private readonly HttpRequest _request = new();
    private long _token;
    private State _state = State.ReadingHead;
    private PollInterest _interest;

    // Unconsumed input is _input[_inputStart.._inputEnd). Body positions are relative to _inputStart (the head).
    private byte[]? _input;
    private int _inputStart;
    private int _inputEnd;
    private int _scanned;
    private OutputBuffer _output;
    private bool _peerClosed;
    private bool _waitingToSend;

    private ParsedHead _head;
    private int _bodyStart;
    private int _bodyRead;
    private int _bodyWritten;
    private ChunkedBodyDecoder _chunked;
    private bool _keepAlive;

    private Future? _parkedOn;
    private IEnumerator<Step>? _iterator;
    private ValueTask<HttpResponse> _pendingValueTask;
    private Task<HttpResponse>? _pendingTask;
    private Action? _onAsyncCompleted;
    private bool _parked;

    private StreamingResponse? _stream;

    // Responses are only read by the server, so one instance serves every unmatched request.
    private static readonly HttpResponse NotFound = new HttpNotFound();

    public HttpConnection(LoopContext context, int fd)
    {
        _context = context;
        _fd = fd;
    }

    public int ListIndex { get; set; } = -1;

    /// <summary>When the connection's current phase times out (loop clock, ms); 0 for never.</summary>
    public long Deadline { get; private set; }

    public void Start()
    {
        _interest = PollInterest.Read;
        _token = _context.Loop.Register(_fd, _interest, this);
        _context.Add(this);
        Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.RequestHeadersTimeout);
    }

    public void OnReady(PollEvents events)
    {
        try
        {
            HandleReadiness(events);
        }
        catch (Exception e)
        {
            // A server bug, not a handler's (those are answered with 500 where they are called): the connection's
            // state can no longer be trusted, so it is closed rather than left to its timeout.
            _context.Logger.LogError(e, "Connection failed unexpectedly; closing it");
            Close();
        }
    }

    private void HandleReadiness(PollEvents events)
    {
        if (_state == State.Closed) return;
        if ((events & PollEvents.Writable) != 0)
        {
            Flush();
            if (_state == State.Closed) return;
        }
        if ((events & (PollEvents.Readable | PollEvents.HangUp | PollEvents.Error)) != 0)
        {
            ReadAndProcess();
            if (_state == State.Closed) return;
        }
        else if (_state is State.ReadingHead or State.ReadingBody)
        {
            Process(); // output drained below the limit: pipelined requests may go on
        }
        Flush();
    }

    /// <summary>Called by the loop's heartbeat once <see cref="Deadline"/> has passed.</summary>
    public void OnDeadline()
    {
        if (_waitingToSend)
        {
            Close(); // the client stopped taking its responses
            return;
        }
        switch (_state)
        {
            case State.ReadingHead when _inputStart == _inputEnd && _output.IsEmpty:
                Close(); // an idle keep-alive connection, or one that never sent a byte
                break;
            case State.ReadingHead:
            case State.ReadingBody:
                Reject(408, "Request Timeout: the request did not arrive in time");
                Flush();
                break;
            default:
                Close();
                break;
        }
    }

    public void OnFutureReady(Future future) =>
        _context.Loop.Post(static state => ((HttpConnection)state!).ResumeParked(), this);

    public void Schedule(StreamingResponse response) =>
        _context.Loop.Post(static state =>
        {
            var stream = (StreamingResponse)state!;
            ((HttpConnection)stream.Owner!).PumpStream(stream);
        }, response);

    /// <summary>The server is stopping: an idle connection closes now; a busy one closes after its response.</summary>
    public void OnDrain()
    {
        if (_state == State.ReadingHead && _inputStart == _inputEnd && _output.IsEmpty) Close();
    }

    public void Close()
    {
        if (_state == State.Closed) return;
        State previous = _state;
        _state = State.Closed;
        Deadline = 0;
        if (previous == State.Handling) AbortHandling();
        else if (previous == State.Streaming) AbortStream();
        try
        {
            _context.Loop.Unregister(_fd, _token);
        }
        catch (Exception e) when (e is InvalidOperationException or ErrnoException)
        {
            // not registered any more
        }
        Libc.Close(_fd);
        ReleaseInput();
        _output.Release(_context.Pool);
        _context.Remove(this);
    }

    private void ReadAndProcess()
    {
        if (_state == State.Lingering)
        {
            Discard();
            return;
        }
        bool wantsInput = _state is State.ReadingHead or State.ReadingBody or State.Handling or State.Streaming;
        if (!wantsInput) return;

        // One read per wake-up; level-triggered readiness brings us back if more is waiting.
        int read = Receive();
        if (_state == State.Closed) return;
        if (read == 0)
        {
            _peerClosed = true;
            if (_state is State.Handling or State.Streaming)
            {
                Close(); // the client left while its request was parked or its response streamed
                return;
            }
        }
        if (read > 0 && _state == State.ReadingBody) Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.RequestBodyIdleTimeout);
        Process();
        if (_peerClosed && _state is State.ReadingHead or State.ReadingBody)
        {
            // Whatever was complete has been answered; nothing more can come.
            _keepAlive = false;
            if (_output.IsEmpty) Close();
            else _state = State.Closing;
        }
    }

    /// <summary>Reads once into the input buffer: bytes read, 0 at end of stream, -1 when nothing was there.</summary>
    private unsafe int Receive()
    {
        if (!EnsureInputSpace()) return -1;
        nint n;
        fixed (byte* p = &_input![_inputEnd])
        {
            n = Libc.Recv(_fd, p, (nuint)(_input.Length - _inputEnd), 0);
        }
        if (n > 0)
        {
            _inputEnd += (int)n;
            return (int)n;
        }
        if (n == 0) return 0;
        Errno errno = ErrnoInfo.Last();
        if (errno is Errno.EAGAIN or Errno.EINTR)
        {
            if (_inputStart == _inputEnd) ReleaseInput();
            return -1;
        }
        Close(); // ECONNRESET and friends: the client is gone
        return -1;
    }

    /// <summary>Makes room to read into: a buffer from the pool, compaction, or a larger buffer within the limits.</summary>
    private bool EnsureInputSpace()
    {
        if (_input is null)
        {
            _input = _context.Pool.Rent();
            _inputStart = _inputEnd = 0;
            return true;
        }
        if (_inputEnd < _input.Length) return true;
        int pending = _inputEnd - _inputStart;
        if (_inputStart > 0)
        {
            _input.AsSpan(_inputStart, pending).CopyTo(_input);
            _inputStart = 0;
            _inputEnd = pending;
            return true;
        }
        int needed = _state switch
        {
            State.ReadingBody when !_head.IsChunked => _bodyStart + (int)_head.ContentLength,
            State.ReadingBody => _input.Length * 2,
            _ => Math.Min(_input.Length * 2, _context.MaxHeadBuffer),
        };
        if (needed <= _input.Length) return false; // full: wait until the data in it is consumed (backpressure)
        byte[] larger = _context.Pool.Rent(needed);
        _input.AsSpan(0, pending).CopyTo(larger);
        _context.Pool.Return(_input);
        _input = larger;
        return true;
    }

    private void Process()
    {
        while (true)
        {
            switch (_state)
            {
                case State.ReadingHead:
                    if (_output.Pending >= _context.Options.MaxResponseBufferBytes) return;
                    if (_inputStart == _inputEnd)
                    {
                        if (_output.IsEmpty && !_parked) ReleaseInput();
                        return;
                    }
                    if (!ParseHead()) return;
                    break;
                case State.ReadingBody:
                    if (!ReadBody()) return;
                    break;
                default:
                    return;
            }
        }
    }

    private bool ParseHead()
    {
        if (_input is null) return false;
        ReadOnlySpan<byte> pending = _input.AsSpan(_inputStart, _inputEnd - _inputStart);
        RequestHead head = _context.Head;
        HttpParseStatus status = HttpRequestParser.TryParseHead(pending, _context.Options.Limits, head, ref _scanned, out HttpRequestError error);
        if (status == HttpParseStatus.NeedMoreData)
        {
            if (_inputStart == 0 && _inputEnd == _input.Length && _input.Length >= _context.MaxHeadBuffer)
            {
                Reject(431, "Request Header Fields Too Large");
            }
            return false;
        }
        if (status == HttpParseStatus.Error)
        {
            Reject(error.StatusCode, error.Reason);
            return false;
        }
        _scanned = 0;
        _head = HeadAdapter.Read(head, _inputStart);
        _keepAlive = _head.Layout.KeepAlive;
        _bodyStart = _head.Layout.HeadLength;
        _bodyRead = _bodyStart;
        _bodyWritten = _bodyStart;
        if (_head.ContentLength > 0 || _head.IsChunked)
        {
            if (_head.ContentLength > _context.Options.Limits.MaxRequestBodyBytes)
            {
                Reject(413, "Content Too Large");
                return false;
            }
            _chunked = default;
            _state = State.ReadingBody;
            Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.RequestBodyIdleTimeout);
            if (_head.ExpectContinue && !BodyComplete())
            {
                ResponseWriter.WriteContinue(ref _output, _context.Pool);
            }
            return true;
        }
        Dispatch(bodyLength: 0, requestLength: _bodyStart);
        return true;
    }

    private bool BodyComplete() =>
        !_head.IsChunked && _inputEnd - _inputStart - _bodyStart >= _head.ContentLength;

    private bool ReadBody()
    {
        if (!_head.IsChunked)
        {
            if (!BodyComplete()) return false;
            int length = (int)_head.ContentLength;
            Dispatch(bodyLength: length, requestLength: _bodyStart + length);
            return true;
        }
        Span<byte> buffer = _input.AsSpan(_inputStart);
        int available = _inputEnd - _inputStart;
        HttpParseStatus status = _chunked.Decode(
            buffer[_bodyRead..available], buffer[_bodyWritten..], _context.Options.Limits,
            out int consumed, out int written, out HttpRequestError error);
        _bodyRead += consumed;
        _bodyWritten += written;
        if (status == HttpParseStatus.Error)
        {
            Reject(error.StatusCode, error.Reason);
            return false;
        }
        if (status == HttpParseStatus.NeedMoreData) return false;
        Dispatch(bodyLength: _bodyWritten - _bodyStart, requestLength: _bodyRead);
        return true;
    }

    private void Dispatch(int bodyLength, int requestLength)
    {
        RequestLayout layout = _head.Layout;
        layout.BodyStart = _inputStart + _bodyStart;
        layout.BodyLength = bodyLength;
        _request.Bind(_input!, layout, _head.Method);
        int requestEnd = _inputStart + requestLength;
        Deadline = 0;

        HttpResponse? response = RouteAndInvoke(out bool pending);
        if (_state is State.Closed or State.Closing) return; // closed, or rejected before a handler ran (a 400 is queued)
        if (pending)
        {
            // Parked: keep a private copy of the request and give the shared buffer back if nothing follows it.
            _request.Detach();
            _inputStart = requestEnd;
            if (_inputStart == _inputEnd) ReleaseInput();
            _state = State.Handling;
            _parked = true;
            _context.Parked();
            return;
        }
        _inputStart = requestEnd;
        Respond(response!);
    }

    private HttpResponse? RouteAndInvoke(out bool pending)
    {
        pending = false;
        HttpRequest request = _request;
        ReadOnlySpan<byte> rawPath = request.RawPath;
        Span<char> path = _context.PathScratch;
        int pathLength;
        if (rawPath.IsEmpty)
        {
            path[0] = '/';
            pathLength = 1;
        }
        else if (!RequestPathDecoder.TryDecode(rawPath, path, out pathLength))
        {
            Reject(400, "Bad Request: invalid percent-encoding in the path");
            return null;
        }

        RouteMatch match = _context.Router.Match(path[..pathLength], request.Method);
        if (match.Route is null)
        {
            if (match.MethodNotAllowed)
            {
                var notAllowed = new HttpResponse("Method Not Allowed\n", 405, "text/plain; charset=utf-8");
                notAllowed.Headers.Add("Allow", match.AllowedMethods!);
                return notAllowed;
            }
            return NotFound;
        }
        Route route = match.Route;
        request.MatchedRoute = route;

        try
        {
            switch (route.Kind)
            {
                case HandlerKind.Plain:
                    return ((Func<HttpRequest, HttpResponse>)route.Handler)(request) ?? NullResponse(route);
                case HandlerKind.Iterator:
                    _iterator = ((Func<HttpRequest, IEnumerable<Step>>)route.Handler)(request).GetEnumerator();
                    return AdvanceIterator(out pending);
                case HandlerKind.AsyncValueTask:
                {
                    ValueTask<HttpResponse> task = ((Func<HttpRequest, ValueTask<HttpResponse>>)route.Handler)(request);
                    if (task.IsCompleted) return task.Result ?? NullResponse(route);
                    _pendingValueTask = task;
                    pending = true;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onAsyncCompleted ??= OnAsyncCompleted);
                    return null;
                }
                default:
                {
                    Task<HttpResponse> task = ((Func<HttpRequest, Task<HttpResponse>>)route.Handler)(request);
                    if (task.IsCompleted) return task.GetAwaiter().GetResult() ?? NullResponse(route);
                    _pendingTask = task;
                    pending = true;
                    task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onAsyncCompleted ??= OnAsyncCompleted);
                    return null;
                }
            }
        }
        catch (Exception e)
        {
            _iterator?.Dispose();
            _iterator = null;
            return HandlerFailed(route, e);
        }
    }

    /// <summary>Runs an iterator handler until it answers or parks on a future that is not ready.</summary>
    private HttpResponse? AdvanceIterator(out bool pending)
    {
        pending = false;
        IEnumerator<Step> iterator = _iterator!;
        while (true)
        {
            if (!iterator.MoveNext())
            {
                DropIterator();
                throw new InvalidOperationException("The iterator handler finished without yielding a response.");
            }
            Step step = iterator.Current;
            if (step.Response is HttpResponse response)
            {
                DropIterator();
                return response;
            }
            Future future = step.Future ?? throw new InvalidOperationException("The iterator handler yielded an empty step.");
            if (future.IsReady)
            {
                if (future.Callback is { } callback)
                {
                    DropIterator();
                    return callback(_request, future) ?? throw new InvalidOperationException("The future's callback returned null.");
                }
                continue;
            }
            _parkedOn = future;
            if (!future.TryAddWaiter(this))
            {
                _parkedOn = null;
                continue; // became ready meanwhile
            }
            pending = true;
            return null;
        }
    }

    private void DropIterator()
    {
        _iterator?.Dispose();
        _iterator = null;
    }

    private void ResumeParked()
    {
        if (_state != State.Handling || _parkedOn is not { IsReady: true } future) return;
        _parkedOn = null;
        HttpResponse? response;
        bool pending = false;
        try
        {
            if (future.Callback is { } callback)
            {
                DropIterator();
                response = callback(_request, future) ?? throw new InvalidOperationException("The future's callback returned null.");
            }
            else
            {
                response = AdvanceIterator(out pending);
            }
        }
        catch (Exception e)
        {
            DropIterator();
            response = HandlerFailed(null, e);
        }
        if (pending) return;
        Unpark();
        Respond(response!);
        Process();
        Flush();
    }

    private void OnAsyncCompleted()
    {
        if (_context.Loop.IsOnLoopThread) ResumeAsync();
        else _context.Loop.Post(static state => ((HttpConnection)state!).ResumeAsync(), this);
    }

    private void ResumeAsync()
    {
        if (_state != State.Handling)
        {
            AbandonAsyncResult();
            return;
        }
        HttpResponse response;
        try
        {
            if (_pendingTask is not null)
            {
                Task<HttpResponse> task = _pendingTask;
                _pendingTask = null;
                response = task.GetAwaiter().GetResult() ?? throw new InvalidOperationException("The handler returned null.");
            }
            else
            {
                ValueTask<HttpResponse> task = _pendingValueTask;
                _pendingValueTask = default;
                response = task.Result ?? throw new InvalidOperationException("The handler returned null.");
            }
        }
        catch (Exception e)
        {
            response = HandlerFailed(null, e);
        }
        Unpark();
        Respond(response);
        Process();
        Flush();
    }

    private void Unpark()
    {
        if (!_parked) return;
        _parked = false;
        _context.Unparked();
        _state = State.ReadingHead;
    }

    private void AbortHandling()
    {
        _request.MarkAborted();
        if (_parkedOn is not null)
        {
            _parkedOn.RemoveWaiter(this);
            _parkedOn = null;
        }
        DropIterator();
        // A pending task is kept: ResumeAsync still runs when it completes, and abandons its result.
        if (_parked)
        {
            _parked = false;
            _context.Unparked();
        }
    }

    /// <summary>
    /// An async handler finished after its client left: a streamed response it returned has no one to stream to,
    /// so it is aborted (its producer learns of it from IsAborted) instead of taking writes for ever.
    /// </summary>
    private void AbandonAsyncResult()
    {
        HttpResponse? response = null;
        if (_pendingTask is { IsCompletedSuccessfully: true } task) response = task.Result;
        else if (_pendingValueTask.IsCompletedSuccessfully) response = _pendingValueTask.Result;
        _pendingTask = null;
        _pendingValueTask = default;
        (response as StreamingResponse)?.AbortUnclaimed();
    }

    private HttpResponse HandlerFailed(Route? route, Exception e)
    {
        _context.Logger.LogError(e, "Handler {Route} failed for {Request}; answering 500", route?.ToString() ?? "(async)", _request.ToString());
        return new HttpResponse("Internal Server Error\n", 500, "text/plain; charset=utf-8");
    }

    private HttpResponse NullResponse(Route route) =>
        HandlerFailed(route, new InvalidOperationException("The handler returned null instead of a response."));

    /// <summary>Writes the response to the current request and gets ready for the next.</summary>
    private void Respond(HttpResponse response)
    {
        bool head = _head.IsHead;
        bool http10KeepAlive = _keepAlive && !_head.Layout.IsHttp11;
        if (_peerClosed || _context.Draining) _keepAlive = false;
        if (response.HasHeaders && string.Equals(response.Headers["Connection"], "close", StringComparison.OrdinalIgnoreCase))
        {
            _keepAlive = false;
        }
        if (response is StreamingResponse stream)
        {
            BeginStream(stream, head, http10KeepAlive);
            return;
        }
        ResponseWriter.Write(ref _output, _context.Pool, response, _keepAlive, http10KeepAlive, head,
            _context.Options.AddServerHeader, _context.Date);
        _request.Reset();
        ReadyForNext();
    }

    /// <summary>After a response: wait for the next request, or close once the response is out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReadyForNext()
    {
        if (!_keepAlive)
        {
            _state = State.Closing;
            Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.KeepAliveTimeout);
            return;
        }
        _state = State.ReadingHead;
        Deadline = _context.Loop.NowMilliseconds + Milliseconds(_inputStart == _inputEnd
            ? _context.Options.KeepAliveTimeout
            : _context.Options.RequestHeadersTimeout);
    }

    /// <summary>
    /// Sends the head of a streamed response and hands the response the connection: HTTP/1.1 gets a chunked body,
    /// HTTP/1.0 one that ends with the connection, HEAD (and a status without content) none. Unless it is complete
    /// already, the request is detached from the read buffer (the producer may read it until it completes) and the
    /// connection waits in <see cref="State.Streaming"/>.
    /// </summary>
    private void BeginStream(StreamingResponse stream, bool head, bool http10KeepAlive)
    {
        if (!stream.TryClaim())
        {
            Respond(HandlerFailed(_request.MatchedRoute, new InvalidOperationException(
                "This StreamingResponse was returned for another request already: make one per request.")));
            return;
        }
        bool noContent = HttpStatus.HasNoContent(stream.StatusCode);
        bool http11 = _head.Layout.IsHttp11;
        if (!http11 && !noContent) _keepAlive = false; // no chunked coding in HTTP/1.0: the close ends the body
        StreamFraming framing = head || noContent ? StreamFraming.None
            : http11 ? StreamFraming.Chunked
            : StreamFraming.CloseDelimited;
        ResponseWriter.WriteStreamingHead(ref _output, _context.Pool, stream, chunked: http11 && !noContent,
            _keepAlive, http10KeepAlive, _context.Options.AddServerHeader, _context.Date);
        _stream = stream;
        if (stream.Attach(this, framing, _context.Options.MaxResponseBufferBytes, ref _output, _context.Pool))
        {
            EndStream(); // completed before the handler returned it: all of it goes out now
            return;
        }
        _request.Detach();
        if (_inputStart == _inputEnd) ReleaseInput();
        _state = State.Streaming;
        Deadline = 0;
    }

    /// <summary>Posted by <see cref="Schedule"/>: moves what the producer wrote into the output and sends it.</summary>
    private void PumpStream(StreamingResponse stream)
    {
        if (_state != State.Streaming || !ReferenceEquals(_stream, stream)) return;
        switch (stream.Pump(ref _output, _context.Pool))
        {
            case StreamPump.Overflowed:
                _context.Logger.LogWarning(
                    "Closing the connection of {Request}: its streamed response queued more than {Limit} bytes for a client that does not take them; the producer should await WaitForDrainAsync",
                    _request.ToString(), (long)_context.Options.MaxResponseBufferBytes * StreamingResponse.HardLimitFactor);
                Close();
                return;
            case StreamPump.Aborted:
                Close();
                return;
            case StreamPump.Completed:
                EndStream();
                Process(); // pipelined requests that waited for the stream
                break;
        }
        Flush();
    }

    /// <summary>Ends the streamed response with its last chunk and gets ready for the next request.</summary>
    private void EndStream()
    {
        StreamingResponse stream = _stream!;
        _stream = null;
        if (stream.Framing == StreamFraming.Chunked) ResponseWriter.WriteLastChunk(ref _output, _context.Pool);
        stream.Finish();
        _request.Reset();
        ReadyForNext();
    }

    private void AbortStream()
    {
        _request.MarkAborted();
        _stream?.Abort();
        _stream = null;
    }

    /// <summary>Answers a request the server refuses, then closes once the answer is out.</summary>
    private void Reject(int status, string reason)
    {
        if (_state == State.Handling) AbortHandling();
        _context.Logger.LogDebug("Rejecting a request with {Status}: {Reason}", status, reason);
        _keepAlive = false;
        ResponseWriter.WriteError(ref _output, _context.Pool, status, reason, _context.Options.AddServerHeader, _context.Date);
        _state = State.Closing;
        Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.LingerTimeout);
        _inputStart = _inputEnd; // nothing after a rejected request is read as a request
    }

    private unsafe void Flush()
    {
        bool progressed = false;
        while (!_output.IsEmpty)
        {
            ReadOnlySpan<byte> pending = _output.PendingSpan;
            nint sent = Libc.SendNoSignal(_fd, pending);
            if (sent > 0)
            {
                _output.Consume((int)sent, _context.Pool);
                progressed = true;
                continue;
            }
            Errno errno = ErrnoInfo.Last();
            if (errno == Errno.EINTR) continue;
            if (errno == Errno.EAGAIN) break;
            Close(); // EPIPE, ECONNRESET: the client is gone
            return;
        }
        TrackSendStall(progressed);
        _stream?.OnSent(_output.Pending);
        // Everything read has been answered and sent: the connection goes idle holding no buffer.
        if (_output.IsEmpty && _state == State.ReadingHead && _inputStart == _inputEnd && !_parked)
        {
            ReleaseInput();
            if (_context.Draining)
            {
                Close(); // its last response went out with keep-alive just before the stop began
                return;
            }
        }
        if (_output.IsEmpty && _state == State.Closing)
        {
            BeginLinger();
            if (_state == State.Closed) return;
        }
        UpdateInterest();
    }

    /// <summary>
    /// While responses wait for the client, the only deadline is the send stall; once they are out, the deadline of
    /// the current phase applies again, counted from now.
    /// </summary>
    private void TrackSendStall(bool progressed)
    {
        long now = _context.Loop.NowMilliseconds;
        if (!_output.IsEmpty)
        {
            if (progressed || !_waitingToSend) Deadline = now + Milliseconds(_context.Options.SendStallTimeout);
            _waitingToSend = true;
            return;
        }
        if (!_waitingToSend) return;
        _waitingToSend = false;
        Deadline = _state switch
        {
            State.ReadingHead => now + Milliseconds(_inputStart == _inputEnd ? _context.Options.KeepAliveTimeout : _context.Options.RequestHeadersTimeout),
            State.ReadingBody => now + Milliseconds(_context.Options.RequestBodyIdleTimeout),
            State.Closing => now + Milliseconds(_context.Options.LingerTimeout),
            _ => 0,
        };
    }

    /// <summary>
    /// Half-closes and reads whatever the client still sends until it closes too (or the linger timeout), so the
    /// last response is not destroyed by a reset caused by unread request bytes.
    /// </summary>
    private void BeginLinger()
    {
        if (_peerClosed)
        {
            Close();
            return;
        }
        Libc.Shutdown(_fd, CommonConstants.SHUT_WR);
        _state = State.Lingering;
        Deadline = _context.Loop.NowMilliseconds + Milliseconds(_context.Options.LingerTimeout);
    }

    private unsafe void Discard()
    {
        byte* scratch = stackalloc byte[512];
        nint n = Libc.Recv(_fd, scratch, 512, 0);
        if (n > 0) return;
        if (n < 0 && ErrnoInfo.Last() is Errno.EAGAIN or Errno.EINTR) return;
        Close();
    }

    private void UpdateInterest()
    {
        if (_state == State.Closed) return;
        PollInterest wanted = PollInterest.None;
        bool outputBlocked = _output.Pending >= _context.Options.MaxResponseBufferBytes;
        bool inputFull = _input is not null && _inputStart == 0 && _inputEnd == _input.Length && _input.Length >= _context.MaxHeadBuffer;
        if (!_peerClosed)
        {
            switch (_state)
            {
                case State.ReadingHead:
                case State.ReadingBody:
                    if (!outputBlocked) wanted |= PollInterest.Read;
                    break;
                case State.Handling:
                case State.Streaming:
                    if (!inputFull) wanted |= PollInterest.Read; // to notice the client leaving
                    break;
                case State.Lingering:
                    wanted |= PollInterest.Read;
                    break;
            }
        }
        if (!_output.IsEmpty) wanted |= PollInterest.Write;
        if (wanted == _interest) return;
        _interest = wanted;
        _context.Loop.Modify(_fd, wanted, _token);
    }

    private void ReleaseInput()
    {
        if (_input is null) return;
        _context.Pool.Return(_input);
        _input = null;
        _inputStart = _inputEnd = 0;
    }

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;
}
