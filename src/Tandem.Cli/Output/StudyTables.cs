using Tandem.Core.Objectives;
using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;

namespace Tandem.Cli.Output;

/// <summary>Tables of a study for the terminal: counts and pruning reasons, the Pareto front, all trials. Every number has its unit.</summary>
internal static class StudyTables
{
    public static void PrintSummary(IAnsiConsole o, IReadOnlyList<TrialRecord> trials, IReadOnlyList<Constraint> specs)
    {
        int complete = trials.Count(t => t.State == TrialState.Complete);
        var pruned = trials.Where(t => t.State == TrialState.Pruned).ToArray();
        var failed = trials.Where(t => t.State == TrialState.Failed).ToArray();
        int running = trials.Count(t => t.State == TrialState.Running);
        o.WriteLine($"Designs: {trials.Count} ({complete} complete, {pruned.Length} pruned before training, {failed.Length} failed" +
            (running > 0 ? $", {running} interrupted" : "") + ")");
        if (pruned.Length > 0)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var t in pruned)
            {
                var broken = StudyFront.Breaks(t, specs);
                if (broken.Count == 0) counts["invalid network"] = counts.GetValueOrDefault("invalid network") + 1;
                foreach (var c in broken)
                {
                    string key = $"{c.Metric} {c.Symbol} {Format.Number(c.Bound)} {MetricUnits.Of(c.Metric)}".TrimEnd();
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
            o.WriteLine("Pruned by spec (a design may break several): " +
                string.Join(", ", counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}: {kv.Value}")));
        }
        foreach (var t in failed.Take(5)) o.WriteLine($"  trial #{t.Number} failed: {t.Reason}");
        if (failed.Length > 5) o.WriteLine($"  … and {failed.Length - 5} more failed trials (tandem show lists them all)");
    }

    public static void PrintFront(IAnsiConsole o, IReadOnlyList<TrialRecord> front, IReadOnlyList<Objective> objectives,
        INetworkFamily family, bool hasHardware)
    {
        if (front.Count == 0)
        {
            o.WriteLine("No design met every spec with all objectives measured, so there is no Pareto front.");
            return;
        }
        var table = new Table().Title(Markup.Escape($"Pareto front ({front.Count} designs)"));
        table.AddColumn("#");
        foreach (var obj in objectives)
            table.AddColumn(new TableColumn(Markup.Escape($"{obj.Metric}{(obj.Direction == Direction.Maximize ? " ↑" : " ↓")} [{MetricUnits.Of(obj.Metric)}]")).RightAligned());
        bool hasTest = front.Any(t => t.Metrics.ContainsKey(MetricNames.TestAccuracy));
        if (hasTest) table.AddColumn(new TableColumn(Markup.Escape("test acc. [%]")).RightAligned());
        table.AddColumn(new TableColumn("MACs").RightAligned());
        table.AddColumn("network");
        if (hasHardware) table.AddColumn("hardware");
        bool hasFidelity = front.Any(t => t.Attributes.ContainsKey("fidelity"));
        if (hasFidelity) table.AddColumn("fidelity");
        foreach (var t in front.OrderBy(t => objectives[0].ToMinimization(t.Metrics[objectives[0].Metric])))
        {
            var row = new List<string> { t.Number.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            row.AddRange(objectives.Select(obj => Format.Number(t.Metrics[obj.Metric])));
            if (hasTest) row.Add(t.Metrics.TryGetValue(MetricNames.TestAccuracy, out double ta) ? Format.Number(ta) : "–");
            row.Add(t.Metrics.TryGetValue(MetricNames.Macs, out double macs) ? Format.Number(macs) : "–");
            row.Add(DescribeNetwork(family, t));
            if (hasHardware) row.Add(t.Attributes.GetValueOrDefault("hardware", "–"));
            if (hasFidelity) row.Add(t.Attributes.GetValueOrDefault("fidelity", "–"));
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }
        o.Write(table);
    }

    /// <summary>The family's compact description of a stored trial's network (falls back to its arch.* values).</summary>
    public static string DescribeNetwork(INetworkFamily family, TrialRecord t)
    {
        try
        {
            var space = new DesignSpace(family.Parameters);
            var arch = t.Params.Where(p => space.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
            return family.Describe(space.Parse(arch));
        }
        catch (Core.InputException) { return string.Join(" ", t.Params.Where(p => p.Key.StartsWith("arch.", StringComparison.Ordinal)).Select(p => $"{p.Key[5..]}={p.Value}")); }
    }
}
