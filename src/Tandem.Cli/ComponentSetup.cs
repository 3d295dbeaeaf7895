using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Configuration;
using Tandem.Core.Hardware;
using Tandem.Core.Hardware.Systolic;
using Tandem.Core.Search;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Studies;
using Tandem.Torch;

namespace Tandem.Cli;

/// <summary>
/// The components a study config can name, from every project: Core's families, templates,
/// strategies and table evaluator, and the Torch project's evaluators (and RL strategy).
/// </summary>
internal static class ComponentSetup
{
    public static ComponentCatalog CreateCatalog()
    {
        var catalog = new ComponentCatalog();
        catalog.AddFamily(PlainCnnFamily.FamilyName, "plain CNN for small images: per stage layers, channels, kernel, residual; pooling between stages",
            ["stages", "layers", "channels", "kernels", "residual", "pooling"], BindPlainCnn);
        catalog.AddFamily(MobileNetV2Family.FamilyName, "MobileNetV2-style inverted residuals: per stage depth, kernel 3/5/7, expansion, width",
            MobileNetV2Options.ConfigKeys, m => new MobileNetV2Family(MobileNetV2Options.Bind(Without(m, "family"))));
        catalog.AddFamily(Nb201Family.FamilyName, "NAS-Bench-201 cell space (6 edges × 5 operations) in its macro skeleton",
            ["init_channels", "cells_per_stage"], m => new Nb201Family(new Nb201Options
            {
                InitChannels = m.GetInt("init_channels", 16, 1, 1024),
                CellsPerStage = m.GetInt("cells_per_stage", 5, 1, 64),
            }));
        catalog.AddTemplate(SystolicTemplate.TemplateName, "systolic array (SCALE-Sim-exact cycles and accesses; 45 nm energy and area)",
            ["rows", "cols", "dataflow", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "clock_mhz", "bits", "bandwidth", "technology"], BindSystolic);

        BuiltInStrategies.Register(catalog.Strategies);
        Tandem.Torch.Search.TorchStrategies.Register(catalog.Strategies);
        TorchComponents.Register(catalog.Evaluators);
        TableAccuracyEvaluator.Register(catalog.Evaluators);
        return catalog;
    }

    private static ConfigMap Without(ConfigMap m, string key) => new(m.Path, m.Location, m.Entries.Where(e => e.Key != key));

    private static INetworkFamily BindPlainCnn(ConfigMap m)
    {
        var d = new PlainCnnOptions();
        return new PlainCnnFamily(new PlainCnnOptions
        {
            Stages = m.GetInt("stages", d.Stages, min: 1, max: 6),
            Layers = m.GetNumberList("layers", 1, 16) ?? d.Layers,
            Channels = m.GetNumberList("channels", 1, 4096) ?? d.Channels,
            Kernels = m.GetNumberList("kernels", 1, 15) ?? d.Kernels,
            Residual = m.GetBool("residual", d.Residual),
            Pooling = m.GetStringList("pooling") ?? d.Pooling,
        });
    }

    /// <summary>
    /// <c>bandwidth</c> is "calc" (SCALE-Sim's stall-free DRAM, default) or a number of words per cycle
    /// (USER mode); <c>technology</c> names a JSON technology table replacing the built-in 45 nm one.
    /// </summary>
    private static IAcceleratorTemplate BindSystolic(ConfigMap m)
    {
        var d = new SystolicTemplateOptions();
        IReadOnlyList<int> Ints(string key, IReadOnlyList<int> fallback, double max) =>
            m.GetNumberList(key, 1, max) is { } list
                ? list.Select(v => v == Math.Floor(v) ? (int)v : throw m[key]!.Error($"{v} is not a whole number")).ToArray()
                : fallback;
        var mode = d.BandwidthMode;
        int words = d.DramWordsPerCycle;
        if (m.GetScalar("bandwidth") is { Value: { } bw })
        {
            if (bw.Equals("calc", StringComparison.OrdinalIgnoreCase)) mode = SystolicBandwidthMode.Calc;
            else
            {
                mode = SystolicBandwidthMode.User;
                words = m.GetInt("bandwidth", 10, 1, 1 << 20);
            }
        }
        TechnologyTable? technology = m.GetString("technology") is { } path ? TechnologyTable.Load(path) : null;
        return new SystolicTemplate(new SystolicTemplateOptions
        {
            Rows = Ints("rows", d.Rows, 4096),
            Columns = Ints("cols", d.Columns, 4096),
            Dataflows = m.GetStringList("dataflow") ?? d.Dataflows,
            IfmapSramKiB = Ints("ifmap_sram_kb", d.IfmapSramKiB, 1 << 20),
            FilterSramKiB = Ints("filter_sram_kb", d.FilterSramKiB, 1 << 20),
            OfmapSramKiB = Ints("ofmap_sram_kb", d.OfmapSramKiB, 1 << 20),
            ClockMHz = Ints("clock_mhz", d.ClockMHz, 100_000),
            Bits = Ints("bits", d.Bits, 64),
            BandwidthMode = mode,
            DramWordsPerCycle = words,
            Technology = technology,
        });
    }
}
