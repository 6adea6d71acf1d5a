using System.Net.Http;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Snow.Native.Tests;

namespace Snow.Native.Hosting.Tests;

/// <summary>
/// The packages as a new user gets them: `dotnet pack -c Release` at the root gives exactly the packable projects'
/// packages (one version, README, XML docs, .snupkg symbols, the interop inside Snow.Native), and a throwaway
/// console app restored from that folder (its own NuGet.config: the folder plus the normal source) runs the seed's
/// three examples from README.md and the README's Generic Host sample, checked over HTTP. Builds go to an artifacts
/// folder of their own, so the build outputs the rest of the suite runs from are never touched.
/// </summary>
[NonParallelizable]
[Category("Packaging")]
public sealed partial class PackageTests
{
    private static readonly string Root = ExternalTools.RepositoryRoot;
    private string _work = null!;
    private string _packages = null!;

    [OneTimeSetUp]
    public void Pack()
    {
        _work = Directory.CreateTempSubdirectory("snow-pack-").FullName;
        _packages = Path.Combine(_work, "packages");
        Run(Root, "dotnet", "pack", "Snow.Native.sln", "-c", "Release", "-o", _packages, "--artifacts-path", Path.Combine(_work, "artifacts"), "-nologo");
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // a child still closing its files: the temp folder is the system's to clean
        }
    }

    private static string[] ExpectedPackages()
    {
        var ids = new List<string> { "Snow.Native", "Snow.Native.Hosting" };
        if (File.Exists(Path.Combine(Root, "src", "Snow.Native.Redis", "Snow.Native.Redis.csproj"))) ids.Add("Snow.Native.Redis");
        return ids.ToArray();
    }

    [Test]
    public void PackAtTheRootGivesExactlyThePackagesWithOneVersionSymbolsReadmeAndDocs()
    {
        string version = Version();
        string[] ids = ExpectedPackages();
        Assert.That(Directory.GetFiles(_packages).Select(Path.GetFileName).Order(),
            Is.EqualTo(ids.SelectMany(id => new[] { $"{id}.{version}.nupkg", $"{id}.{version}.snupkg" }).Order()));
        foreach (string id in ids)
        {
            using ZipArchive package = ZipFile.OpenRead(Path.Combine(_packages, $"{id}.{version}.nupkg"));
            string[] entries = package.Entries.Select(e => e.FullName).ToArray();
            string nuspec = Read(package, $"{id}.nuspec");
            Assert.Multiple(() =>
            {
                Assert.That(entries, Does.Contain("README.md").And.Contain($"lib/net10.0/{id}.dll").And.Contain($"lib/net10.0/{id}.xml"), id);
                Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>").And.Contain("<readme>README.md</readme>"), id);
                Assert.That(nuspec, Does.Not.Contain("Snow.Native.Interop"), $"{id} must not depend on the interop package");
                foreach (Match dependency in SnowDependency().Matches(nuspec))
                {
                    Assert.That(dependency.Groups[1].Value, Is.EqualTo(version), $"{id} depends on its siblings at the same version");
                }
            });
            using ZipArchive symbols = ZipFile.OpenRead(Path.Combine(_packages, $"{id}.{version}.snupkg"));
            Assert.That(symbols.Entries.Select(e => e.FullName), Does.Contain($"lib/net10.0/{id}.pdb"), id);
        }
        using ZipArchive core = ZipFile.OpenRead(Path.Combine(_packages, $"Snow.Native.{version}.nupkg"));
        Assert.That(core.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/Snow.Native.Interop.dll"), "the interop ships inside Snow.Native");
        using ZipArchive coreSymbols = ZipFile.OpenRead(Path.Combine(_packages, $"Snow.Native.{version}.snupkg"));
        Assert.That(coreSymbols.Entries.Select(e => e.FullName), Does.Contain("lib/net10.0/Snow.Native.Interop.pdb"));
    }

    [Test]
    public void ANewConsoleAppRunsTheSeedsThreeExamplesFromThePackages()
    {
        string[] examples = CSharpBlocks(File.ReadAllText(Path.Combine(Root, "README.md"))).Take(3).ToArray();
        Assert.That(examples, Has.Length.EqualTo(3));
        string app = NewApp("examples", ("Snow.Native", Version()));

        // 1. Plain handlers.
        using (var server = StartExample(app, examples[0], out int port))
        {
            Assert.That(Get(port, "/index/"), Is.EqualTo((200, "OK")));
            Assert.That(Get(port, "/home/"), Is.EqualTo((200, "home")));
            Assert.That(Get(port, "/other/").Status, Is.EqualTo(404));
            server.Terminate();
        }

        // 2. /async/ answers after its TimeoutFuture; /home/ answers meanwhile on the same loop.
        using (var server = StartExample(app, examples[1], out int port))
        {
            Task<(int Status, string Body)> slow = Task.Run(() => Get(port, "/async/"));
            Assert.That(Get(port, "/home/"), Is.EqualTo((200, "home")));
            Assert.That(slow.IsCompleted, Is.False, "/async/ still waits");
            Assert.That(slow.Wait(TimeSpan.FromSeconds(30)), Is.True);
            Assert.That(slow.Result, Is.EqualTo((200, "async")));
            server.Terminate();
        }

        // 3. Long polling: /stop/ completes the parked /req/.
        using (var server = StartExample(app, examples[2], out int port))
        {
            Task<(int Status, string Body)> waiting = Task.Run(() => Get(port, "/req/"));
            Assert.That(Eventually(() => Get(port, "/stop/") == (200, "stop") && waiting.Wait(TimeSpan.FromMilliseconds(200))), Is.True);
            Assert.That(waiting.Result, Is.EqualTo((200, "done")));
            server.Terminate();
        }
    }

    [Test]
    public void ANewConsoleAppRunsTheReadmesHostingSampleUnderTheGenericHost()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        string sample = CSharpBlocks(readme).Single(block => block.Contains("AddSnow("));
        Assert.That(sample, Is.EqualTo(File.ReadAllText(Path.Combine(Root, "src", "Snow.Native.Hosting.Sample", "Program.cs"))),
            "README's hosting sample is src/Snow.Native.Hosting.Sample/Program.cs");
        string app = NewApp("hosting", ("Snow.Native.Hosting", Version()), ("Microsoft.Extensions.Hosting", "10.0.0"));
        File.WriteAllText(Path.Combine(app, "Program.cs"), sample);
        Build(app);
        int port = FreePort();
        using var server = new AppProcess(app, $"--Snow:Port={port}");
        Assert.That(Eventually(() => TryGet(port, "/index/") is (200, "OK")), Is.True, server.Output);
        (int status, string time) = Get(port, "/time/");
        Assert.That(status, Is.EqualTo(200));
        Assert.That(DateTimeOffset.TryParse(time, out _), Is.True, time);
        Assert.That(server.Terminate(), Is.EqualTo(0), "the host stops cleanly on SIGTERM");
        string output = server.Output;
        Assert.That(output, Does.Contain("info: Snow.Native[2]").And.Contain($"Snow.Native listening on http://127.0.0.1:{port}/"), "logs through the host");
        Assert.That(output, Does.Contain("Application is shutting down").And.Contain("info: Snow.Native[4]"), "stops with the host");

        // The hosting package's own README sample, as written, in the same app.
        string packageSample = CSharpBlocks(File.ReadAllText(Path.Combine(Root, "src", "Snow.Native.Hosting", "README.md"))).Single();
        File.WriteAllText(Path.Combine(app, "Program.cs"), packageSample);
        Build(app);
        int port2 = FreePort();
        using var second = new AppProcess(app, $"--Snow:Port={port2}");
        Assert.That(Eventually(() => TryGet(port2, "/index/") is (200, "OK")), Is.True, second.Output);
        Assert.That(second.Terminate(), Is.EqualTo(0));
    }

    [Test]
    public async Task ANewConsoleAppShowsItsMetersInDotnetCountersAndItsSpansInAnOpenTelemetryExporter()
    {
        string app = NewApp("observed", ("Snow.Native.Hosting", Version()), ("Microsoft.Extensions.Hosting", "10.0.0"),
            ("OpenTelemetry.Extensions.Hosting", "1.20.1"), ("OpenTelemetry.Exporter.Console", "1.20.1"));
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;
            using OpenTelemetry.Trace;
            using Snow.Native;

            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddSnow((services, snow) => snow.Routes.Add(("^/index/$", request => new HttpResponse("OK"))));
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(SnowDiagnostics.ActivitySourceName).AddConsoleExporter());
            builder.Build().Run();
            """);
        Build(app);
        string counters = DotnetCounters();
        int port = FreePort();
        using var server = new AppProcess(app, $"--Snow:Port={port}");
        Assert.That(Eventually(() => TryGet(port, "/index/") is (200, "OK")), Is.True, server.Output);

        // A request carrying a W3C trace context: its span must continue that trace.
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var client = new HttpClient();
        using var traced = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/index/");
        traced.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        Assert.That(await (await client.SendAsync(traced)).Content.ReadAsStringAsync(), Is.EqualTo("OK"));

        string csv = Path.Combine(_work, "observed-counters.csv");
        using var driving = new CancellationTokenSource();
        Task driver = Task.Run(async () =>
        {
            while (!driving.IsCancellationRequested)
            {
                try
                {
                    await client.GetStringAsync($"http://127.0.0.1:{port}/index/", driving.Token);
                    await Task.Delay(20, driving.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        Run(app, counters, "collect", "--process-id", server.Id.ToString(), "--counters", SnowDiagnostics.MeterName,
            "--refresh-interval", "1", "--duration", "00:00:04", "--format", "csv", "--output", csv);
        driving.Cancel();
        await driver;
        string collected = string.Join("\n", Directory.GetFiles(_work, "observed-counters*.csv").Select(File.ReadAllText));
        Assert.That(collected, Does.Contain(",Snow.Native,http.server.request.duration"), "the request duration in dotnet-counters");
        Assert.That(collected, Does.Contain(",Snow.Native,http.server.active_requests"));
        Assert.That(collected, Does.Contain(",Snow.Native,snow.server.open_connections"));

        Assert.That(server.Terminate(), Is.EqualTo(0), "stops with the host");
        string output = server.Output;
        Assert.That(output, Does.Contain($"Activity.TraceId:            {traceId}").Or.Contain(traceId), "the span continues the caller's trace");
        Assert.That(output, Does.Contain("http.response.status_code: 200"), "the span carries the metrics' tags");
    }

    /// <summary>dotnet-counters, the .NET diagnostics tool, from NuGet into scripts/.tools (as scripts/counters.sh does).</summary>
    private static string DotnetCounters()
    {
        string tools = Path.Combine(Root, "scripts", ".tools");
        string tool = Path.Combine(tools, "dotnet-counters");
        if (!File.Exists(tool)) Run(Root, "dotnet", "tool", "install", "dotnet-counters", "--version", "10.0.750501", "--tool-path", tools);
        return tool;
    }

    private string NewApp(string name, params (string Id, string Version)[] packages)
    {
        string app = Path.Combine(_work, name);
        Directory.CreateDirectory(app);
        // The local folder for Snow.Native's packages, the normal source for the rest; a global packages folder of
        // its own, so a package of the same version packed earlier is never taken from the cache.
        File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_work, "global-packages")}" /></config>
              <fallbackPackageFolders><add key="machine" value="{MachinePackages()}" /></fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="local" value="{_packages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Snow.Native" /><package pattern="Snow.Native.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        Run(app, "dotnet", "new", "console", "--force", "-o", ".");
        foreach (var (id, version) in packages) Run(app, "dotnet", "add", "package", id, "--version", version);
        return app;
    }

    private static string MachinePackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>Builds the example with its port moved from 8012 to a free one (the suite may run beside a demo).</summary>
    private static AppProcess StartExample(string app, string example, out int port)
    {
        port = FreePort();
        Assert.That(example, Does.Contain("8012"));
        File.WriteAllText(Path.Combine(app, "Program.cs"), example.Replace("8012", port.ToString()));
        Build(app);
        var process = new AppProcess(app);
        int p = port;
        Assert.That(Eventually(() => TryGet(p, "/") is not null), Is.True, process.Output);
        return process;
    }

    private static void Build(string app) => Run(app, "dotnet", "build", "-c", "Release", "-nologo", "-v", "q");

    private static string Version()
    {
        string props = File.ReadAllText(Path.Combine(Root, "Directory.Build.props"));
        return Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;
    }

    private static IEnumerable<string> CSharpBlocks(string markdown) =>
        Regex.Matches(markdown, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value);

    private static string Read(ZipArchive archive, string name)
    {
        using var reader = new StreamReader(archive.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static (int Status, string Body) Get(int port, string path) =>
        TryGet(port, path) ?? throw new AssertionException($"no answer from 127.0.0.1:{port}{path}");

    private static (int Status, string Body)? TryGet(int port, string path)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 30_000 };
            socket.Connect(IPAddress.Loopback, port);
            socket.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            string response = HostedServer.ReadToEnd(socket);
            int status = int.Parse(response.AsSpan(9, 3));
            return (status, HostedServer.Body(response));
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>Runs a command to its end (bounded), failing the test with its output if it fails.</summary>
    private static void Run(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not finish within 10 minutes");
        }
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output.Result}\n{errors.Result}");
        }
    }

    [GeneratedRegex("<dependency id=\"Snow\\.Native[^\"]*\" version=\"([^\"]+)\"")]
    private static partial Regex SnowDependency();

    /// <summary>A built console app running as `dotnet app.dll`, its output collected; SIGTERM stops it.</summary>
    private sealed class AppProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public AppProcess(string app, params string[] arguments)
        {
            string dll = Path.Combine(app, "bin", "Release", "net10.0", Path.GetFileName(app) + ".dll");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = app, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            start.ArgumentList.Add(dll);
            foreach (string argument in arguments) start.ArgumentList.Add(argument);
            _process = Process.Start(start)!;
            _process.StandardInput.Close();
            _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        /// <summary>SIGTERM, as a service manager stops a service; the exit code (bounded wait).</summary>
        public int Terminate()
        {
            using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) kill.WaitForExit();
            Assert.That(_process.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "stopped on SIGTERM");
            _process.WaitForExit(); // the output readers finish
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
            _process.Dispose();
        }
    }
}
