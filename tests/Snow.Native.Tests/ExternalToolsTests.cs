namespace Snow.Native.Tests;

public sealed class ExternalToolsTests
{
    [Test]
    public void AToolAlreadyThereIsFoundWithoutInstalling()
    {
        // bash runs every test script; deps.sh must see it as present and succeed at once.
        ExternalTools.Require("bash");
        Assert.That(File.Exists(Path.Combine(ExternalTools.RepositoryRoot, "scripts", "deps.sh")));
    }
}
