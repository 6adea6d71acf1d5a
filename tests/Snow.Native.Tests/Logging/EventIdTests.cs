using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Snow.Native.Tests.Logging;

/// <summary>
/// Event ids are part of the contract (users filter and alert on them): every log method of the server is a
/// source-generated [LoggerMessage] with an id and a name, no id is used twice, and each class keeps to its range.
/// </summary>
public sealed class EventIdTests
{
    private static readonly Dictionary<string, (int First, int Last)> Ranges = new()
    {
        ["Snow.Native.Server.ServerLog"] = (1, 99),
        ["Snow.Native.Http1.Http1Log"] = (100, 199),
        ["Snow.Native.Execution.ExecutionLog"] = (200, 299),
        ["Snow.Native.Loop.LoopLog"] = (300, 399),
        ["Snow.Native.Transport.Tls.TlsLog"] = (400, 499),
        ["Snow.Native.WebSockets.WebSocketLog"] = (500, 599),
    };

    private static IEnumerable<(Type Type, MethodInfo Method, LoggerMessageAttribute Attribute)> LogMethods() =>
        typeof(SnowApp).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Select(method => (Type: type, Method: method, Attribute: method.GetCustomAttribute<LoggerMessageAttribute>()))
                .Where(entry => entry.Attribute is not null)
                .Select(entry => (entry.Type, entry.Method, entry.Attribute!)));

    [Test]
    public void EveryLogMethodHasAUniqueIdAndANameWithinItsClasssRange()
    {
        var methods = LogMethods().ToArray();
        Assert.That(methods.Select(m => m.Type.FullName).Distinct(), Is.EquivalentTo(Ranges.Keys), "one log class per area, each with a range");
        Assert.Multiple(() =>
        {
            foreach (var (type, method, attribute) in methods)
            {
                (int first, int last) = Ranges[type.FullName!];
                Assert.That(attribute.EventId, Is.InRange(first, last), $"{type.Name}.{method.Name}");
                Assert.That(attribute.EventName, Is.Not.Null.And.Not.Empty, $"{type.Name}.{method.Name}");
            }
            Assert.That(methods.Select(m => m.Attribute.EventId), Is.Unique);
            Assert.That(methods.Select(m => m.Attribute.EventName), Is.Unique);
        });
    }

    [Test]
    public void TheServerWritesNoLogLineExceptThroughItsLogClasses()
    {
        // A plain logger.LogWarning("...") has no event id, and boxes its arguments even when the level is off.
        var plain = new Regex(@"\.Log(Trace|Debug|Information|Warning|Error|Critical)?\(");
        string source = Path.Combine(ExternalTools.RepositoryRoot, "src", "Snow.Native");
        string[] offenders = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(path => File.ReadLines(path).Select((line, i) => (path, line, i)))
            .Where(entry => plain.IsMatch(entry.line))
            .Select(entry => $"{Path.GetRelativePath(source, entry.path)}:{entry.i + 1}: {entry.line.Trim()}")
            .ToArray();
        Assert.That(offenders, Is.Empty);
    }
}
