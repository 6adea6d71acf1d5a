using BenchmarkDotNet.Attributes;
using Snow.Native.Http;

namespace Snow.Native.Bench;

/// <summary>
/// <see cref="HttpRequestParser.TryParseHead"/> on whole requests, as the connection calls it: one reused
/// <see cref="RequestHead"/> (the loop's), default limits. Bytes/op and MB/s count the request's bytes; for the
/// POST that includes the JSON body, which Content-Length frames without the parser reading it.
/// </summary>
public class RequestParserBenchmarks
{
    private readonly HttpLimits _limits = new();
    private readonly RequestHead _head = new();
    private byte[] _browserGet = [];
    private byte[] _apiPost = [];
    private byte[] _pipelined = [];

    public static int BrowserGetBytes => Payloads.BrowserGet.Length;

    public static int ApiPostBytes => Payloads.ApiPost.Length;

    public static int PlaintextBytes => Payloads.Plaintext.Length;

    [GlobalSetup]
    public void Setup()
    {
        _browserGet = Payloads.BrowserGet;
        _apiPost = Payloads.ApiPost;
        _pipelined = Payloads.PlaintextPipelined;

        // Fail loudly if a payload does not parse as intended: a benchmark of an error path would mislead.
        Require(BrowserGet() == Payloads.BrowserGet.Length, "browser GET");
        Require(_head.HeaderCount == 14 && _head.HasQuery, "browser GET fields");
        Require(ApiPost() == Payloads.ApiPost.Length, "API POST");
        Require(_head.ContentLength == Payloads.ApiJsonBody.Length, "API POST framing");
        Require(PipelinedPlaintext() == Payloads.PlaintextPipelined.Length, "pipelined plaintext");
        Require(BrowserGetInTwoReads() == Payloads.BrowserGet.Length, "browser GET in two reads");
    }

    [Benchmark]
    [BytesPerOperation(nameof(BrowserGetBytes))]
    public int BrowserGet()
    {
        int scanned = 0;
        HttpParseStatus status = HttpRequestParser.TryParseHead(_browserGet, _limits, _head, ref scanned, out _);
        return status == HttpParseStatus.Complete ? _head.HeadLength : -1;
    }

    /// <summary>The head arrives in two reads: the first half gives NeedMoreData, then the whole is parsed, resuming the scan.</summary>
    [Benchmark]
    [BytesPerOperation(nameof(BrowserGetBytes))]
    public int BrowserGetInTwoReads()
    {
        int scanned = 0;
        ReadOnlySpan<byte> all = _browserGet;
        HttpParseStatus first = HttpRequestParser.TryParseHead(all[..(all.Length / 2)], _limits, _head, ref scanned, out _);
        HttpParseStatus second = HttpRequestParser.TryParseHead(all, _limits, _head, ref scanned, out _);
        return first == HttpParseStatus.NeedMoreData && second == HttpParseStatus.Complete ? _head.HeadLength : -1;
    }

    /// <summary>The head, then the body taken by its Content-Length, as the connection does.</summary>
    [Benchmark]
    [BytesPerOperation(nameof(ApiPostBytes))]
    public int ApiPost()
    {
        int scanned = 0;
        HttpParseStatus status = HttpRequestParser.TryParseHead(_apiPost, _limits, _head, ref scanned, out _);
        return status == HttpParseStatus.Complete ? _head.HeadLength + (int)_head.ContentLength : -1;
    }

    /// <summary>16 pipelined plaintext requests from one buffer; the time and allocations are per request.</summary>
    [Benchmark(OperationsPerInvoke = Payloads.PipelineDepth)]
    [BytesPerOperation(nameof(PlaintextBytes))]
    public int PipelinedPlaintext()
    {
        ReadOnlySpan<byte> input = _pipelined;
        int offset = 0;
        for (int i = 0; i < Payloads.PipelineDepth; i++)
        {
            int scanned = 0;
            if (HttpRequestParser.TryParseHead(input[offset..], _limits, _head, ref scanned, out _) != HttpParseStatus.Complete) return -1;
            offset += _head.HeadLength;
        }
        return offset;
    }

    internal static void Require(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException($"Benchmark setup check failed: {what}");
    }
}

/// <summary>The chunked body decoder and the path decoder, the parser's two friends on the request path.</summary>
public class BodyAndPathDecoderBenchmarks
{
    private readonly HttpLimits _limits = new();
    private byte[] _large = [];
    private byte[] _small = [];
    private byte[] _output = [];
    private byte[] _path = [];
    private char[] _pathOutput = [];

    public static int ChunkedLargeBytes => Payloads.ChunkedLarge.Length;

    public static int ChunkedSmallBytes => Payloads.ChunkedSmall.Length;

    public static int EncodedPathBytes => Payloads.EncodedPath.Length;

    [GlobalSetup]
    public void Setup()
    {
        _large = Payloads.ChunkedLarge;
        _small = Payloads.ChunkedSmall;
        _output = new byte[_large.Length];
        _path = Payloads.EncodedPath;
        _pathOutput = new char[_path.Length + 1];
        RequestParserBenchmarks.Require(ChunkedLarge() == 16 * 1024, "chunked 16 x 1 KiB");
        RequestParserBenchmarks.Require(ChunkedSmallWithTrailer() == 64 * 16, "chunked 64 x 16 B");
        RequestParserBenchmarks.Require(DecodePath() > 0, "path decoding");
    }

    /// <summary>16 chunks of 1 KiB decoded into another buffer (the connection decodes in place; the cost is the same).</summary>
    [Benchmark]
    [BytesPerOperation(nameof(ChunkedLargeBytes))]
    public int ChunkedLarge() => Decode(_large);

    /// <summary>64 chunks of 16 bytes, a chunk extension and a trailer field: the per-chunk overhead.</summary>
    [Benchmark]
    [BytesPerOperation(nameof(ChunkedSmallBytes))]
    public int ChunkedSmallWithTrailer() => Decode(_small);

    /// <summary>Percent-decoding, UTF-8 and dot-segment removal of a 70-byte path.</summary>
    [Benchmark]
    [BytesPerOperation(nameof(EncodedPathBytes))]
    public int DecodePath() => RequestPathDecoder.TryDecode(_path, _pathOutput, out int written) ? written : -1;

    private int Decode(byte[] input)
    {
        var decoder = new ChunkedBodyDecoder();
        HttpParseStatus status = decoder.Decode(input, _output, _limits, out int consumed, out int written, out _);
        return status == HttpParseStatus.Complete && consumed == input.Length ? written : -1;
    }
}
