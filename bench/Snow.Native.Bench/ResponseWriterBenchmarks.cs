using BenchmarkDotNet.Attributes;
using Snow.Native.Http1;
using Snow.Native.Transport;

namespace Snow.Native.Bench;

/// <summary>
/// <see cref="ResponseWriter.Write"/> of a plaintext 200 into a connection's <see cref="OutputBuffer"/>, with the
/// loop's <see cref="BufferPool"/> and <see cref="DateHeader"/>, as the connection does per request: the buffer is
/// rented on the first write and given back once "sent" (here: consumed at once).
/// </summary>
public class ResponseWriterBenchmarks
{
    private static readonly HttpResponse PlaintextBytes = new("Hello, World!"u8.ToArray(), 200, "text/plain");
    private static readonly HttpResponse PlaintextText = new("Hello, World!", 200, "text/plain");
    private static readonly HttpResponse WithHeader = CreateWithHeader();

    private readonly BufferPool _pool = new(bufferSize: 4096, maxRetained: 1024);
    private readonly DateHeader _date = new();
    private OutputBuffer _output;

    [GlobalSetup]
    public void Setup()
    {
        int responseBytes = WriteBytesContent();
        RequestParserBenchmarks.Require(responseBytes > 100 && responseBytes < 200, "plaintext response size");
        RequestParserBenchmarks.Require(WriteTextContent() == responseBytes, "text and bytes responses are equally long");
        RequestParserBenchmarks.Require(WritePipelined16() > 0, "pipelined responses");
    }

    /// <summary>Content given as a byte[] (what a cached response holds): status line, Server, Date, Content-Type, Content-Length, body.</summary>
    [Benchmark(Baseline = true)]
    public int WriteBytesContent() => WriteAndSend(PlaintextBytes);

    /// <summary>Content given as a string: UTF-8 counted, then encoded.</summary>
    [Benchmark]
    public int WriteTextContent() => WriteAndSend(PlaintextText);

    /// <summary>One extra header set by the handler.</summary>
    [Benchmark]
    public int WriteWithExtraHeader() => WriteAndSend(WithHeader);

    /// <summary>16 responses appended to one buffer before one send, as for 16 pipelined requests; per response.</summary>
    [Benchmark(OperationsPerInvoke = 16)]
    public int WritePipelined16()
    {
        for (int i = 0; i < 16; i++)
        {
            ResponseWriter.Write(ref _output, _pool, PlaintextBytes, keepAlive: true, http10KeepAlive: false, headRequest: false, addServerHeader: true, _date);
        }
        int pending = _output.Pending;
        _output.Consume(pending, _pool);
        return pending;
    }

    /// <summary>Just the Date line (formatted once a second, then copied).</summary>
    [Benchmark]
    public int DateHeaderCurrent() => _date.Current.Length;

    private int WriteAndSend(HttpResponse response)
    {
        ResponseWriter.Write(ref _output, _pool, response, keepAlive: true, http10KeepAlive: false, headRequest: false, addServerHeader: true, _date);
        int pending = _output.Pending;
        _output.Consume(pending, _pool); // all sent: the buffer goes back to the pool
        return pending;
    }

    private static HttpResponse CreateWithHeader()
    {
        var response = new HttpResponse("Hello, World!"u8.ToArray(), 200, "text/plain");
        response.Headers.Add("Cache-Control", "no-store");
        return response;
    }
}
