using System.Globalization;
using Tandem.Core.Objectives;
using Tandem.Core.Studies;

namespace Tandem.Reporting.Tests;

/// <summary>
/// A deterministic synthetic study for report tests: designs trade accuracy against latency and
/// energy; designs over 2 ms are pruned by the latency spec (no accuracy), a few fail, and designs
/// below 50 % accuracy break the accuracy spec after evaluation.
/// </summary>
internal static class SampleStudy
{
    public static readonly DateTimeOffset T0 = new(2025, 6, 1, 9, 0, 0, TimeSpan.FromHours(2));

    public static readonly Objective[] TwoObjectives = [new("accuracy", Direction.Maximize), new("latency_ms", Direction.Minimize)];
    public static readonly Objective[] ThreeObjectives = [.. TwoObjectives, new("energy_uj", Direction.Minimize)];
    public static readonly Constraint[] Specs = [Constraint.Parse("latency_ms <= 2"), Constraint.Parse("accuracy >= 50")];

    public static StudyRecord Study(string name = "demo") => new()
    {
        Name = name,
        SpaceSignature = "sha256:0123abcd",
        ConfigJson = """{"study":{"name":"demo","seed":7},"objectives":["maximize accuracy","minimize latency_ms"],"specs":["latency_ms <= 2"]}""",
        ProgramVersion = "0.1.0",
        CreatedAt = T0,
        Status = StudyStatus.Finished,
    };

    public static List<TrialRecord> Trials(int count = 60)
    {
        var random = new Random(42);
        var trials = new List<TrialRecord>();
        for (int n = 0; n < count; n++)
        {
            int rows = 4 << random.Next(4);
            int depth = 2 + random.Next(6);
            double latency = Math.Round(0.2 + 12.0 / rows * depth / 4 + random.NextDouble() * 0.5, 4);
            double energy = Math.Round(5 + depth * 3.1 + rows * 0.4 + random.NextDouble() * 4, 3);
            double accuracy = Math.Round(40 + 50 * (1 - Math.Exp(-depth / 3.0)) + random.NextDouble() * 6, 2);
            var p = new Dictionary<string, string>
            {
                ["arch.depth"] = depth.ToString(CultureInfo.InvariantCulture),
                ["hw.rows"] = rows.ToString(CultureInfo.InvariantCulture),
                ["arch.ops"] = n % 2 == 0 ? "conv3x3,conv5x5" : "conv3x3",
            };
            var trial = new TrialRecord
            {
                Number = n,
                DesignKey = $"arch.depth={depth}|hw.rows={rows}|n={n}",
                Params = p,
                State = TrialState.Complete,
                StartedAt = T0.AddSeconds(10 * n),
                FinishedAt = T0.AddSeconds(10 * n + 7.25),
            };
            if (n % 17 == 5)
                trial = trial with { State = TrialState.Failed, Reason = $"NaN loss at epoch {n % 3}, batch 7: \"exploding\" gradients\nlr too high", Metrics = new Dictionary<string, double>() };
            else if (latency > 2)
                trial = trial with
                {
                    State = TrialState.Pruned,
                    Reason = Specs[0].Explain(latency),
                    Metrics = new Dictionary<string, double> { ["latency_ms"] = latency, ["energy_uj"] = energy, ["macs"] = 1e6 * depth },
                    Attributes = new Dictionary<string, string> { ["hardware"] = $"{rows}x{rows} systolic" },
                };
            else
                trial = trial with
                {
                    Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy, ["latency_ms"] = latency, ["energy_uj"] = energy, ["macs"] = 1e6 * depth },
                    Attributes = new Dictionary<string, string> { ["hardware"] = $"{rows}x{rows} systolic", ["fidelity"] = "proxy" },
                };
            trials.Add(trial);
        }
        return trials;
    }

    public static StudyReportData Data(IReadOnlyList<Objective>? objectives = null) => new()
    {
        Study = Study(),
        Trials = Trials(),
        Objectives = objectives ?? TwoObjectives,
        Constraints = Specs,
        Events =
        [
            new StudyEvent(T0, "started", "study started with 60 trials budget"),
            new StudyEvent(T0.AddMinutes(5), "resumed", "resumed after a crash, 12 trials replayed", """{"replayed":12}"""),
        ],
    };
}
