using System.Text.RegularExpressions;

namespace Snow.Native.Tests;

/// <summary>
/// The connection's three parts read alone: the transport names no HTTP type, the HTTP/1.1 protocol names no
/// descriptor or errno, execution names no transport. Checked on the source, so that a stray dependency fails a
/// test instead of waiting for a reviewer.
/// </summary>
[TestFixture]
public sealed partial class LayeringTests
{
    private static string SourceFolder(string layer)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Snow.Native.sln"))) directory = directory.Parent;
        if (directory is null) Assert.Ignore("NOTE: the sources are not beside this test assembly; layering not checked");
        return Path.Combine(directory!.FullName, "src", "Snow.Native", layer);
    }

    private static IEnumerable<(string File, int Line, string Text)> Lines(string layer) =>
        Directory.GetFiles(SourceFolder(layer), "*.cs").SelectMany(file =>
            File.ReadLines(file).Select((text, index) => (Path.GetFileName(file), index + 1, text)));

    private static void AssertNone(string layer, Regex forbidden, string why)
    {
        var hits = Lines(layer)
            .Where(line => !line.Text.TrimStart().StartsWith("//", StringComparison.Ordinal) && forbidden.IsMatch(line.Text))
            .Select(line => $"{layer}/{line.File}:{line.Line}: {line.Text.Trim()}")
            .ToList();
        Assert.That(hits, Is.Empty, why);
    }

    [Test]
    public void TheTransportNamesNoHttpType() => AssertNone("Transport", HttpNames(),
        "the transport carries bytes for any protocol");

    [Test]
    public void TheHttp1ProtocolNamesNoDescriptorOrErrno() => AssertNone("Http1", DescriptorNames(),
        "the protocol reads and writes the transport's buffers, never a socket");

    [Test]
    public void ExecutionNamesNoTransport() => AssertNone("Execution", TransportNames(),
        "an execution runs a handler for whatever protocol owns it");

    [Test]
    public void TheHttp1ProtocolKnowsNothingOfWebSocketFrames() => AssertNone("Http1", WebSocketNames(),
        "a WebSocket is another protocol after the upgrade hand-off: HTTP/1.1 only writes the 101 and hands over the transport");

    [Test]
    public void TheTransportKnowsNothingOfWebSockets() => AssertNone("Transport", WebSocketNames(),
        "the transport carries bytes for any protocol");

    [GeneratedRegex(@"\bSnow\.Native\.WebSockets\b|\bWebSocket\w*|\bFrameHead\b|\bOpcode\b|\bDeflate\w*")]
    private static partial Regex WebSocketNames();

    [GeneratedRegex(@"\bSnow\.Native\.(Http|Http1|Execution)\b|\bHttp(Request|Response\w*|Limits|Status)\b|\bHttp1\w+|\bSnowOptions\b|\bRoute\b")]
    private static partial Regex HttpNames();

    [GeneratedRegex(@"\bSnow\.Native\.(Interop|Polling)\b|\bLibc\b|\bErrno\w*|\b_fd\b|\bint fd\b|\bSocketTransport\b")]
    private static partial Regex DescriptorNames();

    [GeneratedRegex(@"\bSnow\.Native\.(Transport|Interop|Polling|Http1)\b|\bConnectionTransport\b|\bInputBuffer\b|\bOutputBuffer\b|\bLibc\b")]
    private static partial Regex TransportNames();
}
