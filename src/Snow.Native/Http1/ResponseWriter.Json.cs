using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Snow.Native.Http;
using Snow.Native.Transport;

namespace Snow.Native.Http1;

// JSON responses: the head is written with room for the Content-Length digits, the value is serialized straight
// into the output buffer behind it, and the length is filled in once known (the unused room is closed up). No
// intermediate array, string or stream.
internal static partial class ResponseWriter
{
    // Room for the Content-Length digits: int.MaxValue has 10.
    private const int LengthRoom = 10;

    public static void WriteJson(
        ConnectionTransport transport,
        JsonResponse response,
        JsonOutput json,
        bool keepAlive,
        bool http10KeepAlive,
        bool headRequest,
        bool addServerHeader,
        DateHeader date)
    {
        ref OutputBuffer output = ref transport.Output;
        int status = response.StatusCode;
        bool noContent = HttpStatus.HasNoContent(status);
        string? contentType = noContent ? null : response.ContentType;
        ReadOnlySpan<byte> statusLine = HttpStatus.StatusLine(status);
        int size = statusLine.Length + ServerLine.Length + 64 /* Date */ + 40 /* Content-Length */ + 32 /* Connection */
            + (string.IsNullOrEmpty(contentType) ? 0 : 16 + contentType.Length)
            + ExtraHeadersSize(response) + 2;
        int mark = output.Pending;
        Span<byte> span = output.GetSpan(transport.Pool, size);
        int at = 0;

        Put(span, ref at, statusLine);
        if (addServerHeader) Put(span, ref at, ServerLine);
        Put(span, ref at, date.Current);
        if (!string.IsNullOrEmpty(contentType))
        {
            Put(span, ref at, "Content-Type: "u8);
            at += Encoding.Latin1.GetBytes(contentType, span[at..]);
            Put(span, ref at, "\r\n"u8);
        }
        int lengthAt = -1;
        if (!noContent)
        {
            Put(span, ref at, "Content-Length: "u8);
            lengthAt = mark + at;
            at += LengthRoom;
            Put(span, ref at, "\r\n"u8);
        }
        if (!keepAlive) Put(span, ref at, "Connection: close\r\n"u8);
        else if (http10KeepAlive) Put(span, ref at, "Connection: keep-alive\r\n"u8);
        if (response.HasHeaders || response.HasCookies) PutHeadersAndCookies(span, ref at, response);
        Put(span, ref at, "\r\n"u8);
        output.Advance(at);
        if (noContent) return;

        int bodyStart = output.Pending;
        Utf8JsonWriter writer = json.Begin(transport, response.Options);
        try
        {
            response.WriteValue(writer);
            writer.Flush();
        }
        catch
        {
            output.Truncate(mark); // nothing of this response goes out; the caller answers 500 instead
            throw;
        }
        finally
        {
            json.End(writer);
        }
        int bodyLength = output.Pending - bodyStart;
        Utf8Formatter.TryFormat(bodyLength, output.WrittenSpan[lengthAt..], out int digits);
        output.Remove(lengthAt + digits, LengthRoom - digits);
        if (headRequest) output.Truncate(bodyStart - (LengthRoom - digits)); // HEAD: the length of the body not sent
    }
}

/// <summary>
/// A loop's JSON writers: one <see cref="Utf8JsonWriter"/> per serializer options (its indentation and encoder
/// are the options'), reset for each response and pointed at the connection's output. Loop thread only.
/// </summary>
internal sealed class JsonOutput
{
    private readonly OutputWriter _output = new();
    private readonly Dictionary<JsonSerializerOptions, Utf8JsonWriter> _writers = new(ReferenceEqualityComparer.Instance);
    private JsonSerializerOptions? _lastOptions;
    private Utf8JsonWriter? _lastWriter;

    public Utf8JsonWriter Begin(ConnectionTransport transport, JsonSerializerOptions options)
    {
        _output.Bind(transport);
        if (!ReferenceEquals(options, _lastOptions) || _lastWriter is null)
        {
            if (!_writers.TryGetValue(options, out Utf8JsonWriter? writer))
            {
                writer = new Utf8JsonWriter(_output, new JsonWriterOptions
                {
                    Encoder = options.Encoder,
                    Indented = options.WriteIndented,
                    IndentCharacter = options.IndentCharacter,
                    IndentSize = options.IndentSize,
                    NewLine = options.NewLine,
                    MaxDepth = options.MaxDepth,
                });
                _writers[options] = writer;
            }
            _lastOptions = options;
            _lastWriter = writer;
        }
        _lastWriter.Reset(_output);
        return _lastWriter;
    }

    public void End(Utf8JsonWriter writer)
    {
        writer.Reset(); // drops whatever a failed serialization left pending
        _output.Unbind();
    }
}
