using Snow.Native.Http;
using HttpRequestError = Snow.Native.Http.HttpRequestError;
using static Snow.Native.Tests.Http.HttpTestBytes;

namespace Snow.Native.Tests.Http;

public class ChunkedBodyDecoderTests
{
    private const string Next = "GET /next HTTP/1.1\r\n";

    [TestCase("0\r\n\r\n", "")]
    [TestCase("5\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world")]
    [TestCase("A\r\n0123456789\r\n0\r\n\r\n", "0123456789")]
    [TestCase("a\r\n0123456789\r\n0\r\n\r\n", "0123456789")]
    [TestCase("000005\r\nhello\r\n000\r\n\r\n", "hello")]
    [TestCase("5;ext\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello")]
    [TestCase("5 ; a = b ;c;d=\"q\\\"uo ted\"\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5\t;a\r\nhello\r\n0\r\n\r\n", "hello")]
    [TestCase("5\r\nhello\r\n0\r\nTrailer-A: 1\r\nX-Sum: abc \t def\r\n\r\n", "hello")]
    [TestCase("5\r\nhello\r\n0\r\nEmpty:\r\n\r\n", "hello")]
    [TestCase("5\r\nhe\r\nl\r\n0\r\n\r\n", "he\r\nl", Description = "CRLF inside data is data")]
    [TestCase("3\r\n\u0000\u00FF\u0080\r\n0\r\n\r\n", "\u0000\u00FF\u0080")]
    public void Valid_bodies_decode_at_every_split_and_in_place(string body, string expected)
    {
        byte[] input = Of(body + Next);
        Assert.That(DecodeWhole(input, out int consumed), Is.EqualTo(expected));
        Assert.That(consumed, Is.EqualTo(Of(body).Length), "stops right after the body");

        for (int split = 0; split <= input.Length; split++)
        {
            Assert.That(DecodeInTwoPieces(input, split), Is.EqualTo(expected), $"split at {split}");
        }

        Assert.That(DecodeByteAtATime(Of(body)), Is.EqualTo(expected));
        Assert.That(DecodeInPlaceGrowing(Of(body)), Is.EqualTo(expected));
    }

    [TestCase("\r\n", 400)]
    [TestCase("g\r\n", 400, Description = "not hex")]
    [TestCase("-5\r\n", 400)]
    [TestCase("+5\r\n", 400)]
    [TestCase("0x5\r\n", 400)]
    [TestCase(" 5\r\n", 400, Description = "leading whitespace")]
    [TestCase("5 \r\nhello\r\n0\r\n\r\n", 400, Description = "whitespace not followed by ';'")]
    [TestCase("5\nhello\r\n0\r\n\r\n", 400, Description = "bare LF after size")]
    [TestCase("5\rhello\r\n0\r\n\r\n", 400, Description = "bare CR after size")]
    [TestCase("5\r\nhelloX\r\n0\r\n\r\n", 400, Description = "data longer than size")]
    [TestCase("5\r\nhello0\r\n\r\n", 400, Description = "missing CRLF after data")]
    [TestCase("5\r\nhello\n0\r\n\r\n", 400, Description = "bare LF after data")]
    [TestCase("5\r\nhello\r0\r\n\r\n", 400, Description = "bare CR after data")]
    [TestCase("10000000000000000\r\n", 400, Description = "2^64: overflow")]
    [TestCase("8000000000000000\r\n", 400, Description = "2^63: overflow of long")]
    [TestCase("5;\r\nhello\r\n0\r\n\r\n", 400, Description = "empty extension name")]
    [TestCase("5;=v\r\nhello\r\n0\r\n\r\n", 400)]
    [TestCase("5;a=\r\nhello\r\n0\r\n\r\n", 400, Description = "empty extension value")]
    [TestCase("5;a=\"x\r\nhello\r\n0\r\n\r\n", 400, Description = "unterminated quoted value")]
    [TestCase("5;a=b c\r\nhello\r\n0\r\n\r\n", 400)]
    [TestCase("5;a(b\r\nhello\r\n0\r\n\r\n", 400, Description = "extension name not a token")]
    [TestCase("5;a=\"\u0001\"\r\nhello\r\n0\r\n\r\n", 400, Description = "control in quoted value")]
    [TestCase("5;a \r\nhello\r\n0\r\n\r\n", 400, Description = "whitespace before CRLF")]
    [TestCase("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", 400)]
    [TestCase("0\r\nX: 1\r\n", -1, Description = "trailers not finished")]
    [TestCase("0\r\n X: 1\r\n\r\n", 400, Description = "trailer obs-fold / leading whitespace")]
    [TestCase("0\r\nX : 1\r\n\r\n", 400, Description = "whitespace before colon")]
    [TestCase("0\r\n: 1\r\n\r\n", 400, Description = "empty trailer name")]
    [TestCase("0\r\nX 1\r\n\r\n", 400, Description = "no colon")]
    [TestCase("0\r\nX: a\u0000b\r\n\r\n", 400, Description = "NUL in trailer value")]
    [TestCase("0\r\nX: a\u007Fb\r\n\r\n", 400, Description = "DEL in trailer value")]
    [TestCase("0\r\nX: 1\n\r\n", 400, Description = "bare LF in trailer")]
    [TestCase("0\r\nX: 1\r\r\n", 400, Description = "bare CR in trailer")]
    [TestCase("0\r\n\n", 400, Description = "bare LF as final line")]
    [TestCase("0\r\n\rX", 400, Description = "bare CR as final line")]
    [TestCase("5\r\nhel", -1)]
    [TestCase("5\r\nhello\r\n", -1)]
    [TestCase("0\r\n", -1)]
    public void Malformed_bodies(string body, int expected)
    {
        Assert.That(Outcome(Of(body), new HttpLimits()), Is.EqualTo(expected));
        Assert.That(OutcomeByteAtATime(Of(body), new HttpLimits()), Is.EqualTo(expected), "byte at a time");
    }

    [Test]
    public void Body_limit_is_on_the_decoded_total()
    {
        var limits = new HttpLimits { MaxRequestBodyBytes = 10 };
        Assert.That(Outcome(Of("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"), limits), Is.EqualTo(0), "exactly the limit");
        Assert.That(Outcome(Of("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"), limits), Is.EqualTo(413), "one over");
        Assert.That(Outcome(Of("B\r\n"), limits), Is.EqualTo(413), "refused as soon as the size is known");
        Assert.That(OutcomeByteAtATime(Of("5\r\nhello\r\n6\r\n"), limits), Is.EqualTo(413));
        Assert.That(Outcome(Of("FFFFFFFFFFFFFFFFFFFF\r\n"), new HttpLimits { MaxRequestBodyBytes = long.MaxValue }), Is.EqualTo(400), "overflow");
        Assert.That(Outcome(Of("7FFFFFFFFFFFFFFF\r\n"), new HttpLimits { MaxRequestBodyBytes = long.MaxValue }), Is.EqualTo(-1), "long.MaxValue fits");
    }

    [Test]
    public void Chunk_size_line_limit_at_exactly_the_limit_and_one_over()
    {
        var limits = new HttpLimits { MaxChunkSizeLineBytes = 16 };
        Assert.That(Outcome(Of("5;" + new string('e', 14) + "\r\nhello\r\n0\r\n\r\n"), limits), Is.EqualTo(0));
        Assert.That(Outcome(Of("5;" + new string('e', 15) + "\r\nhello\r\n0\r\n\r\n"), limits), Is.EqualTo(400));
        Assert.That(OutcomeByteAtATime(Of("5;" + new string('e', 100_000)), limits), Is.EqualTo(400), "without a line end");
        Assert.That(Outcome(Of(new string('0', 17) + "\r\n\r\n"), limits), Is.EqualTo(400), "leading zeros count too");
    }

    [Test]
    public void Trailer_limits_use_the_header_limits()
    {
        var limits = new HttpLimits { MaxRequestHeadersTotalBytes = 20, MaxRequestHeaderCount = 2 };
        // "A: 123456789012345\r\n" is 20 bytes.
        Assert.That(Outcome(Of("0\r\nA: 123456789012345\r\n\r\n"), limits), Is.EqualTo(0));
        Assert.That(Outcome(Of("0\r\nA: 1234567890123456\r\n\r\n"), limits), Is.EqualTo(431));
        Assert.That(OutcomeByteAtATime(Of("0\r\nA: " + new string('1', 1000)), limits), Is.EqualTo(431));
        Assert.That(Outcome(Of("0\r\nA: 1\r\nB: 2\r\n\r\n"), limits), Is.EqualTo(0));
        Assert.That(Outcome(Of("0\r\nA:1\r\nB:2\r\nC:3\r\n\r\n"), limits), Is.EqualTo(431));
    }

    [Test]
    public void A_full_output_pauses_decoding_without_losing_anything()
    {
        byte[] input = Of("A\r\n0123456789\r\n0\r\n\r\n");
        var decoder = new ChunkedBodyDecoder();
        var limits = new HttpLimits();
        var output = new byte[3];
        var decoded = new List<byte>();
        int offset = 0;
        HttpParseStatus status;
        do
        {
            status = decoder.Decode(input.AsSpan(offset), output, limits, out int consumed, out int written, out _);
            decoded.AddRange(output.AsSpan(0, written).ToArray());
            offset += consumed;
        }
        while (status == HttpParseStatus.NeedMoreData);

        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(Text(decoded.ToArray()), Is.EqualTo("0123456789"));
        Assert.That(decoder.IsComplete, Is.True);
        Assert.That(decoder.DecodedBytes, Is.EqualTo(10));
    }

    [Test]
    public void Complete_decoder_consumes_nothing_more_until_reset()
    {
        var decoder = new ChunkedBodyDecoder();
        var limits = new HttpLimits();
        var output = new byte[16];
        Assert.That(decoder.Decode(Of("0\r\n\r\n"), output, limits, out _, out _, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(decoder.Decode(Of("1\r\nx\r\n0\r\n\r\n"), output, limits, out int consumed, out int written, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That((consumed, written), Is.EqualTo((0, 0)));

        decoder.Reset();
        Assert.That(decoder.Decode(Of("1\r\nx\r\n0\r\n\r\n"), output, limits, out consumed, out written, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That((consumed, written), Is.EqualTo((11, 1)));
    }

    [Test]
    public void Large_body_decodes_in_place_with_every_chunk_size()
    {
        var random = new Random(1234);
        var expected = new byte[50_000];
        random.NextBytes(expected);
        var encoded = new List<byte>();
        int position = 0;
        while (position < expected.Length)
        {
            int size = Math.Min(random.Next(1, 5000), expected.Length - position);
            encoded.AddRange(Of(size.ToString("x") + (size % 3 == 0 ? ";n=\"v\"" : "") + "\r\n"));
            encoded.AddRange(expected.AsSpan(position, size).ToArray());
            encoded.AddRange(Of("\r\n"));
            position += size;
        }

        encoded.AddRange(Of("0\r\nX-Checksum: 42\r\n\r\n"));
        byte[] buffer = encoded.ToArray();
        var decoder = new ChunkedBodyDecoder();
        Assert.That(decoder.Decode(buffer, buffer, new HttpLimits(), out int consumed, out int written, out _), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(buffer.Length));
        Assert.That(buffer.AsSpan(0, written).SequenceEqual(expected), Is.True);
    }

    [Test]
    public void Decoding_allocates_nothing()
    {
        byte[] input = Of("5;a=b\r\nhello\r\n6\r\n world\r\n0\r\nX: 1\r\n\r\n");
        var output = new byte[64];
        var limits = new HttpLimits();
        var decoder = new ChunkedBodyDecoder();
        decoder.Decode(input, output, limits, out _, out _, out _);
        decoder.Reset();

        long before = GC.GetAllocatedBytesForCurrentThread();
        HttpParseStatus status = decoder.Decode(input, output, limits, out _, out _, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(allocated, Is.EqualTo(0));
    }

    private static string DecodeWhole(byte[] input, out int consumed)
    {
        var decoder = new ChunkedBodyDecoder();
        var output = new byte[input.Length];
        HttpParseStatus status = decoder.Decode(input, output, new HttpLimits(), out consumed, out int written, out HttpRequestError error);
        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete), error.Reason);
        return Text(output.AsSpan(0, written));
    }

    /// <summary>Feeds the first <paramref name="split"/> bytes, then the unconsumed rest plus everything else.</summary>
    private static string DecodeInTwoPieces(byte[] input, int split)
    {
        var decoder = new ChunkedBodyDecoder();
        var limits = new HttpLimits();
        var output = new byte[input.Length];
        HttpParseStatus status = decoder.Decode(input.AsSpan(0, split), output, limits, out int consumed, out int written, out _);
        if (status == HttpParseStatus.NeedMoreData)
        {
            status = decoder.Decode(input.AsSpan(consumed), output.AsSpan(written), limits, out _, out int more, out _);
            written += more;
        }

        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        return Text(output.AsSpan(0, written));
    }

    private static string DecodeByteAtATime(byte[] input)
    {
        var decoder = new ChunkedBodyDecoder();
        var limits = new HttpLimits();
        var output = new byte[input.Length];
        int written = 0;
        HttpParseStatus status = HttpParseStatus.NeedMoreData;
        for (int i = 0; i < input.Length; i++)
        {
            Assert.That(status, Is.EqualTo(HttpParseStatus.NeedMoreData));
            status = decoder.Decode(input.AsSpan(i, 1), output.AsSpan(written), limits, out int consumed, out int more, out _);
            Assert.That(consumed, Is.EqualTo(1));
            written += more;
        }

        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        return Text(output.AsSpan(0, written));
    }

    /// <summary>
    /// How a connection would use it: decoded bytes are written over the encoded ones in the receive buffer,
    /// which gains bytes one at a time; unconsumed bytes are moved down to follow the decoded ones.
    /// </summary>
    private static string DecodeInPlaceGrowing(byte[] encoded)
    {
        var decoder = new ChunkedBodyDecoder();
        var limits = new HttpLimits();
        var buffer = new byte[encoded.Length];
        int decodedEnd = 0; // buffer[..decodedEnd] holds decoded body
        int pendingEnd = 0; // buffer[decodedEnd..pendingEnd] holds encoded bytes not yet consumed
        HttpParseStatus status = HttpParseStatus.NeedMoreData;
        for (int received = 0; received < encoded.Length; received++)
        {
            buffer[pendingEnd++] = encoded[received];
            Span<byte> pending = buffer.AsSpan(decodedEnd, pendingEnd - decodedEnd);
            status = decoder.Decode(pending, pending, limits, out int consumed, out int written, out _);
            Assert.That(status, Is.Not.EqualTo(HttpParseStatus.Error));
            pending[consumed..].CopyTo(pending[written..]);
            decodedEnd += written;
            pendingEnd -= consumed - written;
        }

        Assert.That(status, Is.EqualTo(HttpParseStatus.Complete));
        return Text(buffer.AsSpan(0, decodedEnd));
    }

    private static int Outcome(byte[] input, HttpLimits limits)
    {
        var decoder = new ChunkedBodyDecoder();
        var output = new byte[input.Length];
        HttpParseStatus status = decoder.Decode(input, output, limits, out _, out _, out HttpRequestError error);
        return status switch
        {
            HttpParseStatus.Complete => 0,
            HttpParseStatus.NeedMoreData => -1,
            _ => error.StatusCode,
        };
    }

    private static int OutcomeByteAtATime(byte[] input, HttpLimits limits)
    {
        var decoder = new ChunkedBodyDecoder();
        var output = new byte[1];
        for (int i = 0; i < input.Length; i++)
        {
            HttpParseStatus status = decoder.Decode(input.AsSpan(i, 1), output, limits, out _, out _, out HttpRequestError error);
            if (status == HttpParseStatus.Error)
            {
                return error.StatusCode;
            }

            if (status == HttpParseStatus.Complete)
            {
                return 0;
            }
        }

        return -1;
    }
}
