using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Snow.Native.Bench;

/// <summary>
/// Marks a benchmark that processes a known number of input bytes per operation. The value is read from the
/// static property or field <see cref="Member"/> of the benchmark class (attribute arguments must be constants,
/// and the payloads are built at run time).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class BytesPerOperationAttribute(string member) : Attribute
{
    public string Member { get; } = member;

    public static long? Of(BenchmarkCase benchmarkCase)
    {
        MethodInfo method = benchmarkCase.Descriptor.WorkloadMethod;
        if (method.GetCustomAttribute<BytesPerOperationAttribute>() is not { } attribute) return null;
        const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;
        Type type = benchmarkCase.Descriptor.Type;
        object? value = type.GetProperty(attribute.Member, flags)?.GetValue(null) ?? type.GetField(attribute.Member, flags)?.GetValue(null);
        return value is null ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }
}

/// <summary>"Bytes/op" and "MB/s" (10^6 bytes per second, from the mean time per operation) for benchmarks marked with <see cref="BytesPerOperationAttribute"/>.</summary>
internal sealed class ThroughputColumn(bool bytesPerOperation) : IColumn
{
    public static readonly IColumn BytesPerOp = new ThroughputColumn(bytesPerOperation: true);

    public static readonly IColumn MegabytesPerSecond = new ThroughputColumn(bytesPerOperation: false);

    public string Id => nameof(ThroughputColumn) + "." + ColumnName;

    public string ColumnName => bytesPerOperation ? "Bytes/op" : "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => bytesPerOperation ? 0 : 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => bytesPerOperation
        ? "Input bytes one operation processes"
        : "Input processed per second, in 10^6 bytes (Bytes/op / Mean)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        long? bytes = BytesPerOperationAttribute.Of(benchmarkCase);
        if (bytes is null) return "-";
        if (bytesPerOperation) return bytes.Value.ToString("N0", CultureInfo.InvariantCulture);
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (meanNanoseconds is not > 0) return "?";
        double megabytesPerSecond = bytes.Value * 1e9 / meanNanoseconds.Value / 1e6;
        return megabytesPerSecond.ToString("N1", CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => BytesPerOperationAttribute.Of(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
