using Snow.Native.Execution;
using Snow.Native.Http;
using Snow.Native.Transport;

namespace Snow.Native.Http1;

// Request bodies: buffered in the read buffer (which grows with the bytes that arrived, within the loop's budget)
// for handlers that run once the body is complete, or streamed to a handler that runs at once and reads them as
// they come. Both are watched by the body-idle timeout and the minimum data rate, on the connection's one timer.
internal sealed partial class Http1Connection
{
    private int _bodyRead;           // buffered chunked body: raw bytes decoded so far, from the head's start
    private int _bodyWritten;        // buffered chunked body: where decoded bytes end, from the head's start
    private ChunkedBodyDecoder _chunked;
    private long _bodyCharge;        // what this connection holds of the loop's body budget

    private Http1BodyReader? _bodyReader;
    private bool _streamingBody;     // a streamed body is being read (until its end, or the exchange's)
    private long _streamRemaining;   // streamed Content-Length body: bytes still to come
    private long _bodyBytes;         // raw body bytes received, for the data rate
    private long _bodyWaitStart;     // when the server began waiting for body bytes (0: not waiting)
    private long _bodyWaited;        // milliseconds spent waiting before that
    private long _lastBodyByte;

    /// <summary>The body was not read to its end: the connection cannot carry another request.</summary>
    private bool BodyUnfinished => _streamingBody && !(_bodyReader?.IsComplete ?? true);

    private void BeginBufferedBody()
    {
        RequestHead head = _request!.Head;
        if (_answer is not null && head.ExpectContinue && !BufferedBodyComplete())
        {
            // Routing already knows the answer (404, 405, 400): give it instead of inviting a body nobody reads,
            // and close, since the body the client may still send cannot be told from a next request.
            _keepAlive = false;
            Dispatch(bodyLength: 0, requestLength: head.HeadLength);
            return;
        }
        _state = State.Body;
        _bodyRead = _bodyWritten = head.HeadLength;
        _chunked = default;
        StartBodyClock();
        if (head.ExpectContinue && !BufferedBodyComplete()) ResponseWriter.WriteContinue(ref _transport.Output, _transport.Pool);
    }

    private bool BufferedBodyComplete()
    {
        RequestHead head = _request!.Head;
        return !head.IsChunked && _transport.Input.Length - head.HeadLength >= head.ContentLength;
    }

    /// <summary>Buffers body bytes; dispatches the request once the body is complete.</summary>
    private bool ReadBody()
    {
        RequestHead head = _request!.Head;
        int headLength = head.HeadLength;
        ref InputBuffer input = ref _transport.Input;
        OnBodyBytes(input.Length - headLength - (_bodyBytes));
        if (!head.IsChunked)
        {
            if (BufferedBodyComplete())
            {
                int length = (int)head.ContentLength;
                Dispatch(bodyLength: length, requestLength: headLength + length);
                return true;
            }
            if (input.IsFull) GrowForBody(headLength + head.ContentLength);
            return false;
        }
        Span<byte> buffer = input.Span;
        HttpParseStatus status = _chunked.Decode(
            buffer[_bodyRead..], buffer[_bodyWritten..], _context.Limits,
            out int consumed, out int written, out HttpRequestError error);
        _bodyRead += consumed;
        _bodyWritten += written;
        if (status == HttpParseStatus.Error)
        {
            Reject(error.StatusCode, error.Reason);
            return false;
        }
        if (status == HttpParseStatus.NeedMoreData)
        {
            if (input.IsFull) GrowForBody((long)input.Capacity * 2);
            return false;
        }
        Dispatch(bodyLength: _bodyWritten - headLength, requestLength: _bodyRead);
        return true;
    }

    /// <summary>
    /// Makes the read buffer larger for a body that does not fit: doubling with the bytes that arrived (never to
    /// what a header announces), within the loop's budget for buffered bodies; past it the request gets 503.
    /// </summary>
    private void GrowForBody(long needed)
    {
        ref InputBuffer input = ref _transport.Input;
        int capacity = input.Capacity;
        long target = Math.Min(Math.Max((long)capacity * 2, 8192), needed);
        if (target <= capacity || target > Array.MaxLength) return;
        long extra = target - capacity;
        if (!_context.TryChargeBody(extra))
        {
            Reject(503, "Service Unavailable: the server is buffering too many request bodies; try again later", "body_budget_exceeded");
            return;
        }
        input.Resize(_transport.Pool, (int)target);
        _bodyCharge += extra;
    }

    private void ReleaseBodyCharge()
    {
        if (_bodyCharge == 0) return;
        _context.ReleaseBody(_bodyCharge);
        _bodyCharge = 0;
    }

    /// <summary>After a buffered body was dispatched: its budget is free, and a large buffer shrinks back.</summary>
    private void ReleaseBodyBuffer()
    {
        if (_bodyCharge == 0) return;
        ReleaseBodyCharge();
        ShrinkInput();
    }

    /// <summary>A body is done with the read buffer: an empty one goes back, a large one shrinks to the standard size.</summary>
    private void ShrinkInput()
    {
        ref InputBuffer input = ref _transport.Input;
        if (input.IsEmpty) input.Release(_transport.Pool);
        else if (input.Capacity > _transport.Pool.BufferSize && input.Length <= _transport.Pool.BufferSize) input.Resize(_transport.Pool, _transport.Pool.BufferSize);
    }

    // ---- Streamed bodies ----

    /// <summary>
    /// Runs the handler now, before the body: it reads the body through <see cref="Http1BodyReader"/> as the bytes
    /// come. The head is copied out (the read buffer then only carries body bytes, consumed as they are read).
    /// </summary>
    private void StartStreamedBody()
    {
        HttpRequest request = _request!;
        RequestHead head = request.Head;
        _bodyReader ??= new Http1BodyReader(this, _context.Loop);
        _bodyReader.Begin();
        _streamingBody = true;
        _streamRemaining = head.IsChunked ? -1 : head.ContentLength;
        _chunked = default;
        request.StreamBodyFrom(_bodyReader);
        _transport.KeepInputBuffer = true;
        request.Detach();
        _transport.Input.Consume(head.HeadLength);
        _bodyBytes = 0;
        _bodyWaited = 0;
        _bodyWaitStart = 0;
        _transport.ClearTimer();
        if (head.ExpectContinue) ResponseWriter.WriteContinue(ref _transport.Output, _transport.Pool);

        Route route = _route!;
        _route = null;
        _answer = null;
        RequestExecution? pending;
        HttpResponseBase? response = request.TelemetryActivity is null
            ? RequestExecution.Start(_context.Execution, request, route, this, out pending)
            : StartInActivity(request, route, out pending);
        if (_state != State.Head)
        {
            // Rejected (or closed) while the handler's first steps read the body: nobody is left to answer.
            pending?.Abandon();
            (response as StreamingResponse)?.AbortUnclaimed();
            return;
        }
        _execution = pending;
        if (response is null)
        {
            _state = State.Executing;
            return;
        }
        Respond(response);
    }

    /// <summary>The handler asked for body bytes (on the loop: inline, or posted from another thread).</summary>
    internal void OnBodyReadRequested(bool posted)
    {
        ServeBodyRead();
        if (_state == State.Closed) return;
        if (posted) _transport.Flush();
        else
        {
            _transport.RefreshInterest(); // room was made: the transport may read again
            if (!_transport.Output.IsEmpty) _context.Loop.Post(static state => ((ConnectionTransport)state!).Flush(), _transport);
        }
    }

    // A streamed body's read buffer grows to this when the handler keeps up: reads this large drain the socket in
    // few calls and let TCP reopen its window at once (on loopback its segments are 64 KiB).
    private const int StreamBufferSize = 64 * 1024;

    /// <summary>A full buffer of a streamed body doubles, up to <see cref="StreamBufferSize"/>.</summary>
    private void GrowStreamBuffer()
    {
        ref InputBuffer input = ref _transport.Input;
        if (input.IsFull && input.Capacity < StreamBufferSize) input.Resize(_transport.Pool, Math.Min(input.Capacity * 2, StreamBufferSize));
    }

    /// <summary>Loop thread: gives the waiting read what the input holds, or waits for more.</summary>
    internal void ServeBodyRead()
    {
        Http1BodyReader reader = _bodyReader!;
        if (!reader.HasPendingRead) return;
        if (!_streamingBody || _state == State.Closed)
        {
            reader.Fail(new IOException("The connection closed before the request body was complete."));
            return;
        }
        if (reader.IsComplete)
        {
            reader.Complete(0);
            return;
        }
        ref InputBuffer input = ref _transport.Input;
        if (!input.IsEmpty) OnBodyBytes(input.Length - (_bodyBytes - _bodyConsumed));
        Memory<byte> destination = reader.PendingBuffer;
        if (_streamRemaining >= 0)
        {
            int count = (int)Math.Min(Math.Min(input.Length, _streamRemaining), destination.Length);
            if (count > 0 || _streamRemaining == 0 || destination.Length == 0)
            {
                input.Span[..count].CopyTo(destination.Span);
                input.Consume(count);
                _bodyConsumed += count;
                _streamRemaining -= count;
                DeliverBody(count, complete: _streamRemaining == 0);
                return;
            }
        }
        else if (!input.IsEmpty)
        {
            HttpParseStatus status = _chunked.Decode(input.Span, destination.Span, _context.Limits,
                out int consumed, out int written, out HttpRequestError error);
            input.Consume(consumed);
            _bodyConsumed += consumed;
            if (status == HttpParseStatus.Error)
            {
                Reject(error.StatusCode, error.Reason);
                return;
            }
            if (written > 0 || status == HttpParseStatus.Complete)
            {
                DeliverBody(written, complete: status == HttpParseStatus.Complete);
                return;
            }
        }
        if (_transport.PeerClosed)
        {
            reader.Fail(new IOException("The client closed the connection before the request body was complete."));
            return;
        }
        // Nothing to give yet: the server is now waiting for the client, which the data rate measures.
        if (_bodyWaitStart == 0) _bodyWaitStart = _transport.Now;
        UpdateBodyTimer();
    }

    private long _bodyConsumed;      // streamed body: raw bytes consumed from the input

    private void DeliverBody(int count, bool complete)
    {
        if (_bodyWaitStart != 0)
        {
            _bodyWaited += _transport.Now - _bodyWaitStart;
            _bodyWaitStart = 0;
        }
        if (complete) _bodyReader!.MarkComplete();
        _transport.ClearTimer(); // nobody is waiting for the client until the next read
        _bodyReader!.Complete(count);
    }

    private void StartBodyClock()
    {
        _bodyBytes = 0;
        _bodyWaited = 0;
        _bodyWaitStart = _transport.Now;
        _lastBodyByte = _bodyWaitStart;
        UpdateBodyTimer();
    }

    private void OnBodyBytes(long received)
    {
        if (received <= 0) return;
        _bodyBytes += received;
        _lastBodyByte = _transport.Now;
        if (_bodyWaitStart != 0) UpdateBodyTimer();
    }

    /// <summary>
    /// The body timer: whichever comes first of the idle timeout (from the last byte) and the moment the bytes
    /// received fall below the minimum rate, counting only the time the server waited for them.
    /// </summary>
    private void UpdateBodyTimer()
    {
        long now = _transport.Now;
        long due = Math.Max(_lastBodyByte, _bodyWaitStart) + _context.BodyIdleMilliseconds;
        TimerReason reason = TimerReason.RequestBodyIdle;
        if (_context.MinBodyRate is { } rate)
        {
            long start = _bodyWaitStart - _bodyWaited;
            long allowed = Math.Max((long)rate.GracePeriod.TotalMilliseconds, (long)(_bodyBytes * 1000.0 / rate.BytesPerSecond));
            long rateDue = start + allowed;
            if (rateDue < due)
            {
                due = rateDue;
                reason = TimerReason.MinDataRate;
            }
        }
        _transport.SetTimerAt(reason, Math.Max(due, now + 1));
    }

    /// <summary>The exchange ended: the body, read or not, is no longer this request's.</summary>
    private void EndBody()
    {
        if (!_streamingBody) return;
        _streamingBody = false;
        _bodyConsumed = 0;
        _bodyReader?.End();
        _transport.KeepInputBuffer = false;
        ShrinkInput();
    }

    private void FailBody(Exception failure)
    {
        if (_streamingBody) _bodyReader?.Fail(failure);
    }
}
