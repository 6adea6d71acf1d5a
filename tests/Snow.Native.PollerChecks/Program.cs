using System.Diagnostics;
using System.Runtime.InteropServices;
using Snow.Native.Interop;
using Snow.Native.Polling;
using Snow.Native.PollerContract;

namespace Snow.Native.PollerChecks;

/// <summary>
/// Runs <see cref="PollerContractChecks.All"/> against every poller this OS offers and prints one line per check,
/// without a test framework, so that the same binary can be published for another architecture and run under
/// qemu-user. Exit code: 0 when everything passed, 1 when something failed, 2 for bad arguments.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }

        Console.WriteLine(
            $"arch {RuntimeInformation.ProcessArchitecture}, os {Platform.Flavor} ({RuntimeInformation.OSDescription}), " +
            $"epoll_event layout: {EpollEventLayout.Size} bytes, data at {EpollEventLayout.DataOffset}" +
            $" ({(EpollEventLayout.IsPacked ? "packed" : "aligned")})");

        var tally = new Tally();
        tally.Record("layout", "EpollEventMatchesArchitecture", CheckEpollLayout);

        foreach (PollerKind kind in PollerFactory.Available)
        {
            if (options.Poller is { } wanted && wanted != kind) continue;
            foreach ((string name, Action<PollerKind> run) in PollerContractChecks.All)
            {
                if (options.Check is { } onlyCheck && !onlyCheck.Equals(name, StringComparison.OrdinalIgnoreCase)) continue;
                tally.Record(PollerFactory.Name(kind), name, () => run(kind));
            }
        }

        if (options.Check is { } check && !PollerContractChecks.All.Any(c => c.Name.Equals(check, StringComparison.OrdinalIgnoreCase)))
        {
            // A misspelt filter would otherwise run nothing and still report success.
            Console.WriteLine($"FAIL filter --check {check}: no such check; known: {string.Join(", ", PollerContractChecks.All.Select(c => c.Name))}");
            tally.Failed++;
        }
        if (options.Poller is { } poller && !PollerFactory.Available.Contains(poller))
        {
            Console.WriteLine($"FAIL filter --poller {PollerFactory.Name(poller)}: not available on {Platform.Flavor}");
            tally.Failed++;
        }

        Console.WriteLine($"{tally.Passed} passed, {tally.Failed} failed");
        return tally.Failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// The layout the interop picked must be the one the kernel ABI prescribes for the architecture the process
    /// really runs as. The expected values come from the ABI, not from the interop's own structs, so a wrong
    /// choice in <see cref="EpollEventLayout"/> cannot confirm itself.
    /// </summary>
    private static void CheckEpollLayout()
    {
        // x86_64 declares struct epoll_event packed; every other 64-bit architecture aligns the u64 to 8.
        (int size, int dataOffset) expected = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? (12, 4) : (16, 8);
        (int size, int dataOffset) actual = (EpollEventLayout.Size, EpollEventLayout.DataOffset);
        if (actual != expected)
        {
            throw new ContractFailure(
                $"{RuntimeInformation.ProcessArchitecture} needs epoll_event {expected.size} bytes with data at {expected.dataOffset}, " +
                $"but the interop uses {actual.size} bytes with data at {actual.dataOffset}");
        }
    }

    private sealed class Tally
    {
        public int Passed { get; private set; }

        public int Failed { get; set; }

        public void Record(string subject, string name, Action run)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                run();
                Passed++;
                Console.WriteLine($"PASS {subject} {name} ({watch.ElapsedMilliseconds} ms)");
            }
            catch (ContractFailure failure)
            {
                Failed++;
                Console.WriteLine($"FAIL {subject} {name}: {failure.Message}");
            }
            catch (Exception unexpected)
            {
                // Anything but a ContractFailure is a crash inside the check; the stack says where.
                Failed++;
                Console.WriteLine($"FAIL {subject} {name}: {unexpected.GetType().Name}: {unexpected.Message}");
                Console.WriteLine(Indent(unexpected.StackTrace));
            }
        }

        private static string Indent(string? text) =>
            string.Join(Environment.NewLine, (text ?? "").Split('\n').Select(line => "    " + line.TrimEnd()));
    }

    private sealed record Options(PollerKind? Poller, string? Check)
    {
        public const string Usage = "usage: Snow.Native.PollerChecks [--poller epoll|kqueue|select] [--check NAME]";

        public static Options Parse(string[] args)
        {
            PollerKind? poller = null;
            string? check = null;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--poller":
                        PollerKind kind = PollerFactory.Parse(ValueAfter(args, ref i));
                        if (kind == PollerKind.Auto) throw new ArgumentException("--poller needs a poller name, not auto.");
                        poller = kind;
                        break;
                    case "--check":
                        check = ValueAfter(args, ref i);
                        break;
                    case "-h" or "--help":
                        throw new ArgumentException("");
                    default:
                        throw new ArgumentException($"unknown argument '{args[i]}'");
                }
            }
            return new Options(poller, check);
        }

        private static string ValueAfter(string[] args, ref int i)
        {
            if (i + 1 >= args.Length) throw new ArgumentException($"{args[i]} needs a value");
            return args[++i];
        }
    }
}
