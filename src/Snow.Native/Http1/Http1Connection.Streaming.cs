using Microsoft.Extensions.Logging;
using Snow.Native.Execution;
using Snow.Native.Http;
using Snow.Native.Transport;

namespace Snow.Native.Http1;

// Responses that outlive the handler's return: a StreamingResponse, written from any thread until it completes,
// and an upgrade, after which another protocol has the transport.
internal sealed partial class Http1Connection
{
    public void Schedule(StreamingResponse response) =>
        _context.Loop.Post(static state =>
        {
            var stream = (StreamingResponse)state!;
            ((Http1Connection)stream.Owner!).PumpStream(stream);
        }, response);

    /// <summary>
    /// Sends the head of a streamed response and hands the response the connection: HTTP/1.1 gets a chunked body,
    /// HTTP/1.0 one that ends with the connection, HEAD (and a status without content) none. Unless it is complete
    /// already, the request is detached from the read buffer (the producer may read it until it completes) and the
    /// connection waits in <see cref="State.Streaming"/>.
    /// </summary>
    private void BeginStream(StreamingResponse stream, bool head, bool http10KeepAlive)
    {
        HttpRequest request = _request!;
        if (!stream.TryClaim())
        {
            Respond(RequestExecution.Failed(_context.Execution, request, request.MatchedRoute, new InvalidOperationException(
                "This StreamingResponse was returned for another request already: make one per request.")));
            return;
        }
        bool noContent = HttpStatus.HasNoContent(stream.StatusCode);
        bool http11 = request.IsHttp11;
        if (!http11 && !noContent) _keepAlive = false; // no chunked coding in HTTP/1.0: the close ends the body
        StreamFraming framing = head || noContent ? StreamFraming.None
            : http11 ? StreamFraming.Chunked
            : StreamFraming.CloseDelimited;
        ResponseWriter.WriteStreamingHead(ref _transport.Output, _transport.Pool, stream, chunked: http11 && !noContent,
            _keepAlive, http10KeepAlive, _context.Options.AddServerHeader, _context.Date);
        _stream = stream;
        if (stream.Attach(this, framing, _context.Options.MaxResponseBufferBytes, ref _transport.Output, _transport.Pool))
        {
            EndStream(); // completed before the handler returned it: all of it goes out now
            return;
        }
        request.Detach();
        _state = State.Streaming;
        _transport.ClearTimer();
    }

    /// <summary>Posted by <see cref="Schedule"/>: moves what the producer wrote into the output and sends it.</summary>
    private void PumpStream(StreamingResponse stream)
    {
        if (_state != State.Streaming || !ReferenceEquals(_stream, stream)) return;
        switch (stream.Pump(ref _transport.Output, _transport.Pool))
        {
            case StreamPump.Overflowed:
                Http1Log.StreamedResponseOverflow(_context.Logger, _request?.ToString(), (long)_context.Options.MaxResponseBufferBytes * StreamingResponse.HardLimitFactor);
                _transport.Close();
                return;
            case StreamPump.Aborted:
                _transport.Close();
                return;
            case StreamPump.Completed:
                EndStream();
                Process(); // pipelined requests that waited for the stream
                break;
        }
        _transport.Flush();
    }

    /// <summary>Ends the streamed response with its last chunk and gets ready for the next request.</summary>
    private void EndStream()
    {
        StreamingResponse stream = _stream!;
        _stream = null;
        if (stream.Framing == StreamFraming.Chunked) ResponseWriter.WriteLastChunk(ref _transport.Output, _transport.Pool);
        stream.Finish();
        EndExchange();
        ReadyForNext();
    }

    /// <summary>Writes the 101 and gives the transport, with the input behind the request, to the new protocol.</summary>
    private void BeginUpgrade(UpgradeResponse upgrade)
    {
        HttpRequest request = _request!;
        if (!request.IsHttp11)
        {
            Respond(RequestExecution.Failed(_context.Execution, request, request.MatchedRoute,
                new InvalidOperationException("A connection can only be upgraded from an HTTP/1.1 request.")));
            return;
        }
        IConnectionProtocol next;
        try
        {
            next = upgrade.CreateProtocol(_transport);
        }
        catch (Exception e)
        {
            Respond(RequestExecution.Failed(_context.Execution, request, request.MatchedRoute, e));
            return;
        }
        ResponseWriter.WriteStreamingHead(ref _transport.Output, _transport.Pool, upgrade, chunked: false,
            keepAlive: true, http10KeepAlive: false, _context.Options.AddServerHeader, _context.Date);
        EndExchange();
        _state = State.Upgraded;
        _transport.SetProtocol(next);
    }
}
