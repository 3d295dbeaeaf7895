using Tandem.Core.Spaces;
using Tandem.Core.Workloads;

namespace Tandem.Core.Hardware;

/// <summary>The decoded hardware half of a design (array size, dataflow, buffers, clock, …). Immutable.</summary>
public abstract record AcceleratorConfig
{
    /// <summary>Clock frequency in hertz.</summary>
    public abstract double ClockHz { get; }

    /// <summary>One-line human description, e.g. "systolic 16x16 WS, 64/64/64 KiB, 500 MHz".</summary>
    public abstract string Describe();
}

/// <summary>
/// Options of one cost evaluation. A budget makes the model stop summing per-layer costs as soon as
/// the running total exceeds it (SC-NAS's early termination): the report is then marked
/// <see cref="HardwareReport.Truncated"/> and its totals are lower bounds.
/// </summary>
public sealed record CostOptions
{
    public static CostOptions Default { get; } = new();

    /// <summary>Stop once latency exceeds this many seconds.</summary>
    public double? LatencyBudgetSeconds { get; init; }

    /// <summary>Stop once energy exceeds this many picojoules.</summary>
    public double? EnergyBudgetPicojoules { get; init; }

    /// <summary>Keep the per-layer breakdown in the report (off in hot search loops to save allocations).</summary>
    public bool PerLayer { get; init; } = true;
}

/// <summary>Turns a workload and a hardware configuration into latency, energy and area. Pure and thread-safe.</summary>
public interface ICostModel
{
    HardwareReport Evaluate(Workload workload, AcceleratorConfig config, CostOptions? options = null);
}

/// <summary>
/// An accelerator template: its <c>hw.*</c> (and <c>map.*</c>, <c>comp.*</c>) parameters, how a design
/// decodes into an <see cref="AcceleratorConfig"/>, and its cost model.
/// </summary>
public interface IAcceleratorTemplate
{
    /// <summary>Short identifier used in config files ("systolic", …).</summary>
    string Name { get; }

    IReadOnlyList<Parameter> Parameters { get; }

    AcceleratorConfig Decode(Design design);

    ICostModel CostModel { get; }
}
