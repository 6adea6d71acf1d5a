using System.Diagnostics;

namespace Snow.Native.Tests.Tls;

/// <summary>scripts/testssl.sh: testssl.sh scans the demo's HTTPS port and finds nothing HIGH or CRITICAL.</summary>
[NonParallelizable]
public sealed class TestSslScanTests
{
    [Test]
    public void TheDemosHttpsPortHasNoHighOrCriticalFinding()
    {
        ExternalTools.Require("testssl.sh", "openssl");
        string demo = Path.Combine(ExternalTools.RepositoryRoot, "src", "Snow.Native.Demo", "bin", "Release", "net10.0", "Snow.Native.Demo.dll");
        if (!File.Exists(demo)) Assert.Ignore($"SKIPPED: the demo is not built in Release ({demo}); the solution's test command builds it");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(ExternalTools.RepositoryRoot, "scripts", "testssl.sh"));
        start.Environment["NO_BUILD"] = "1";
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(12)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("scripts/testssl.sh did not finish within 12 minutes");
        }
        string all = output.Result + errors.Result;
        TestContext.Progress.WriteLine(all);
        Assert.That(process.ExitCode, Is.EqualTo(0), all);
        Assert.That(all, Does.Contain("testssl: 0 high/critical finding(s)"));
    }
}
