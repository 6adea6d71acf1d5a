using System.Diagnostics;
using Snow.Native.Tests;

namespace Snow.Native.Redis.Tests;

/// <summary>
/// scripts/scaleout.sh as it is: redis-server, two demo instances (this build's) and nginx round-robin, and a /stop/
/// on one instance releasing a /req/ parked on the other, on free ports; per poller.
/// </summary>
[TestFixtureSource(typeof(Pollers), nameof(Pollers.Kinds))]
[NonParallelizable]
public sealed class ScaleOutTests(PollerKind poller)
{
    [Test]
    [CancelAfter(180_000)]
    public void TheScaleOutScriptReleasesARequestParkedOnOneDemoFromTheOther()
    {
        ExternalTools.Require("redis-server", "nginx", "curl");
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<configuration>/net10.0
        string demo = Path.Combine(ExternalTools.RepositoryRoot, "src", "Snow.Native.Demo", "bin", configuration, "net10.0", "Snow.Native.Demo.dll");
        Assert.That(File.Exists(demo), Is.True, demo);

        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(ExternalTools.RepositoryRoot, "scripts", "scaleout.sh"), "--free-ports", "--poller", poller.ToString().ToLowerInvariant() })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DEMO_DLL"] = demo;
        using Process script = Process.Start(start)!;
        script.StandardInput.Close();
        Task<string> output = script.StandardOutput.ReadToEndAsync();
        Task<string> errors = script.StandardError.ReadToEndAsync();
        if (!script.WaitForExit(TimeSpan.FromSeconds(150)))
        {
            script.Kill(entireProcessTree: true);
            Assert.Fail($"scripts/scaleout.sh did not finish within 150 s:\n{output.Result}\n{errors.Result}");
        }
        string log = output.Result + errors.Result;
        TestContext.Out.WriteLine(log);
        Assert.That(script.ExitCode, Is.EqualTo(0), log);
        Assert.That(output.Result, Does.Contain($"poller: {poller.ToString().ToLowerInvariant()}"));
        Assert.That(output.Result, Does.Contain("released across instances"));
    }
}
