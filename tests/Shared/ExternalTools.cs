using System.Collections.Concurrent;
using System.Diagnostics;

namespace Snow.Native.Tests;

/// <summary>
/// Tools that some tests need beyond the .NET SDK (redis-server, nginx, openssl, testssl.sh, chromium, Python's
/// and Node's WebSocket clients). <see cref="Require"/> installs them through scripts/deps.sh, the project's one
/// installer, and skips the test with a loud message only when they truly cannot be had.
/// Shared as a source file by every test project that needs it.
/// </summary>
internal static class ExternalTools
{
    private static readonly ConcurrentDictionary<string, Lazy<string?>> Outcomes = new();

    /// <summary>The repository's root (where Snow.Native.sln is).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Where npm packages installed by scripts/deps.sh live (for NODE_PATH).</summary>
    public static string NodeModules => Path.Combine(RepositoryRoot, "scripts", ".npm", "node_modules");

    /// <summary>
    /// Makes sure every named Debian package (or npm:package) is installed; otherwise the test is skipped, and
    /// says so loudly on the progress stream as well as in its result.
    /// </summary>
    public static void Require(params string[] names)
    {
        foreach (string name in names)
        {
            string? failure = Outcomes.GetOrAdd(name, n => new Lazy<string?>(() => Install(n))).Value;
            if (failure is null) continue;
            string message = $"SKIPPED: {name} is needed and could not be installed: {failure}";
            TestContext.Progress.WriteLine($"!!! {message}");
            Assert.Ignore(message);
        }
    }

    private static string? Install(string name)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "scripts", "deps.sh"));
        start.ArgumentList.Add(name);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return "scripts/deps.sh did not finish within 10 minutes";
        }
        return process.ExitCode == 0 ? null : (errors.Result + output.Result).Trim();
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Snow.Native.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"Snow.Native.sln not found above {AppContext.BaseDirectory}");
    }
}
