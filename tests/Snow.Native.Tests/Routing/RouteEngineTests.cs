using System.Text.RegularExpressions;

namespace Snow.Native.Tests.Routing;

/// <summary>Which regex engine a route's pattern runs on, and that anchoring still works as re.match does.</summary>
[TestFixture]
public sealed class RouteEngineTests
{
    private static Route Plain(string pattern) => new(pattern, (HttpRequest _) => new HttpResponse(""));

    [TestCase("^/index/$")]
    [TestCase("/home/")]
    [TestCase("^/users/(?<id>[0-9]+)$")]
    [TestCase("/a|/b")]
    [TestCase("^/(a+)+$")] // catastrophic for a backtracking engine; linear on this one
    public void PatternsWithoutBacktrackingConstructsRunOnTheNonBacktrackingEngine(string pattern)
    {
        Assert.That(Plain(pattern).Regex.Options.HasFlag(RegexOptions.NonBacktracking), Is.True);
    }

    [Test]
    public void APatternThatNeedsBacktrackingFallsBackWithATimeout()
    {
        Regex regex = Plain(@"^/(?<w>\w+)/\k<w>$").Regex;
        Assert.That(regex.Options.HasFlag(RegexOptions.NonBacktracking), Is.False);
        Assert.That(regex.MatchTimeout, Is.EqualTo(Route.BacktrackingMatchTimeout));
    }

    [TestCase("/home/", "/home/", true)]
    [TestCase("/home/", "/home/more", true)]    // re.match: a prefix match unless "$" anchors the end
    [TestCase("/home/", "/x/home/", false)]     // but always at the start
    [TestCase("/a|/b", "/b", true)]
    [TestCase("/a|/b", "/x/b", false)]          // the alternation stays inside the anchor
    [TestCase("^/index/$", "/index/x", false)]
    public void PatternsMatchAtTheStartOfThePathAsReMatchDoes(string pattern, string path, bool matches)
    {
        Assert.That(Plain(pattern).Regex.IsMatch(path.AsSpan()), Is.EqualTo(matches));
    }
}
