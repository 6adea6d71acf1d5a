namespace Snow.Native.Tests.Examples;

/// <summary>
/// README's test-client example is this project's own HomePageTests.cs, character for character: the suite runs
/// the example as written, and this check fails when either changes alone.
/// </summary>
[TestFixture]
public sealed class ReadmeExampleTests
{
    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Snow.Native.sln"))) directory = directory.Parent;
        if (directory is null) Assert.Ignore("NOTE: the sources are not beside this test assembly; the README example is not compared");
        return directory!.FullName;
    }

    [Test]
    public void TheTestClientExampleInTheReadmeIsTheOneThatRuns()
    {
        string root = Root();
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");
        string example = File.ReadAllText(Path.Combine(root, "tests", "Snow.Native.Tests", "Examples", "HomePageTests.cs")).ReplaceLineEndings("\n");
        Assert.That(readme, Does.Contain("```csharp\n" + example + "```\n"), "README.md must show tests/Snow.Native.Tests/Examples/HomePageTests.cs as it is");
    }
}
