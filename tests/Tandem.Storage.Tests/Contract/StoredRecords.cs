using Tandem.Core.Studies;

namespace Tandem.Storage.Tests.Contract;

/// <summary>Sample records and exact comparisons (bit-exact doubles, time offsets kept) for the contract tests.</summary>
internal static class StoredRecords
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(1));

    public static StudyRecord Study(string name, int minutes = 0) => new()
    {
        Name = name,
        SpaceSignature = "sha256:" + new string('a', 16),
        ConfigJson = """{"study":{"name":"x"},"space":{"hw.rows":[8,16]},"note":"quote \" and ünïcödé"}""",
        ProgramVersion = "0.1.0+abc",
        CreatedAt = T0.AddMinutes(minutes),
    };

    public static TrialRecord Running(int number) => new()
    {
        Number = number,
        DesignKey = $"arch.depth=3|hw.rows={8 << (number % 4)}",
        Params = new Dictionary<string, string> { ["arch.depth"] = "3", ["hw.rows"] = (8 << (number % 4)).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        State = TrialState.Running,
        StartedAt = T0.AddSeconds(number).AddTicks(1234567),
    };

    public static TrialRecord Complete(int number) => Running(number) with
    {
        State = TrialState.Complete,
        Metrics = new Dictionary<string, double> { ["accuracy"] = 90 + number * 0.01, ["latency_ms"] = 1.0 / (number + 3), ["energy_uj"] = 12.5 * number },
        Attributes = new Dictionary<string, string> { ["fidelity"] = "proxy", ["hardware"] = "16x16 systolic, 64 KiB SRAM" },
        FinishedAt = T0.AddSeconds(number + 1).AddTicks(7654321),
    };

    public static void Equal(StudyRecord expected, StudyRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.SpaceSignature, actual.SpaceSignature);
        Assert.Equal(expected.ConfigJson, actual.ConfigJson);
        Assert.Equal(expected.ProgramVersion, actual.ProgramVersion);
        ExactTime(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Status, actual.Status);
    }

    public static void Equal(TrialRecord expected, TrialRecord actual)
    {
        Assert.Equal(expected.Number, actual.Number);
        Assert.Equal(expected.DesignKey, actual.DesignKey);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.Reason, actual.Reason);
        Assert.Equal(Sorted(expected.Params), Sorted(actual.Params));
        Assert.Equal(Sorted(expected.Attributes), Sorted(actual.Attributes));
        Assert.Equal(expected.Metrics.Count, actual.Metrics.Count);
        foreach (var (name, value) in expected.Metrics)
        {
            Assert.True(actual.Metrics.TryGetValue(name, out double got), $"metric {name} missing");
            Assert.True(BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(got),
                $"metric {name}: stored {value:R} (0x{BitConverter.DoubleToInt64Bits(value):X16}) came back as {got:R} (0x{BitConverter.DoubleToInt64Bits(got):X16})");
        }
        ExactTime(expected.StartedAt, actual.StartedAt);
        Assert.Equal(expected.FinishedAt.HasValue, actual.FinishedAt.HasValue);
        if (expected.FinishedAt is { } f) ExactTime(f, actual.FinishedAt!.Value);
    }

    public static void Equal(StudyEvent expected, StudyEvent actual)
    {
        ExactTime(expected.Time, actual.Time);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Message, actual.Message);
        Assert.Equal(expected.DataJson, actual.DataJson);
    }

    /// <summary>DateTimeOffset equality ignores the offset; the store must keep both the instant and the offset.</summary>
    public static void ExactTime(DateTimeOffset expected, DateTimeOffset actual)
    {
        Assert.Equal(expected.UtcTicks, actual.UtcTicks);
        Assert.Equal(expected.Offset, actual.Offset);
    }

    private static KeyValuePair<string, string>[] Sorted(IReadOnlyDictionary<string, string> map) =>
        map.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
}
