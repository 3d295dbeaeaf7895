using System.Text.Json;
using Tandem.Core.Configuration;
using Tandem.Core.Search.Pareto;
using Tandem.Core.Search.Strategies;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;

namespace Tandem.Core.Search.Modifiers;

/// <summary>
/// Options of progressive space shrinking. Every <see cref="Every"/> told trials, the best
/// <see cref="KeepTop"/> fraction (at least <see cref="MinDesigns"/>) of the designs told so far
/// decide which values survive; a parameter never keeps fewer than <see cref="MinValues"/> values.
/// </summary>
public sealed record ShrinkingOptions
{
    public int Every { get; init; } = 50;
    public double KeepTop { get; init; } = 0.2;
    public int MinDesigns { get; init; } = 5;
    public int MinValues { get; init; } = 1;

    public static ShrinkingOptions Bind(ConfigMap options)
    {
        options.CheckKeys("every", "keep_top", "min_designs", "min_values");
        return new ShrinkingOptions
        {
            Every = options.GetInt("every", 50, 1, 10_000_000),
            KeepTop = options.GetDouble("keep_top", 0.2, 1e-6, 1),
            MinDesigns = options.GetInt("min_designs", 5, 1, 10_000_000),
            MinValues = options.GetInt("min_values", 1, 1, 10_000_000),
        };
    }
}

/// <summary>
/// Progressive space shrinking (HSCoNAS, GoldenNAS) around any strategy. On a schedule, the best
/// designs so far (constrained-domination rank, then crowding distance) are examined and each
/// discrete parameter loses the values none of them uses; a float parameter's range narrows to the
/// span they use plus 5% of the unit interval on each side. Each shrink is recorded with
/// <see cref="StrategyContext.ReportEvent"/> (kind "space-shrunk", data = the surviving values).
/// The inner strategy still works on the full space; its proposals are repaired into the shrunk
/// space (ordinal and integer values move to the nearest surviving position, categorical ones to a
/// seeded random surviving choice, floats are clamped) and the repaired design is what is evaluated
/// and told back. Shrinking never removes the last <see cref="ShrinkingOptions.MinValues"/> values.
/// </summary>
internal sealed class SpaceShrinking : IStrategy, IFrontForecast
{
    private readonly IStrategy _inner;
    private readonly StrategyContext _context;
    private readonly ShrinkingOptions _options;
    private readonly Random _rng;
    private readonly bool[][] _allowed;
    private readonly double[] _lo, _hi;
    private readonly List<Individual> _told = [];
    private int _shrinks;

    public SpaceShrinking(IStrategy inner, StrategyContext context, ShrinkingOptions options)
    {
        _inner = inner;
        _context = context;
        _options = options;
        _rng = new Random(unchecked(context.Seed * 17 + 3));
        var space = context.Space;
        _allowed = space.Parameters.Select(p => p.IsDiscrete ? Enumerable.Repeat(true, p.Cardinality).ToArray() : []).ToArray();
        _lo = new double[space.Count];
        _hi = Enumerable.Repeat(1.0, space.Count).ToArray();
    }

    public double? FrontProbability(string designKey) => (_inner as IFrontForecast)?.FrontProbability(designKey);

    public string Name => $"{_inner.Name}+shrinking";

    /// <summary>Whether value position <paramref name="position"/> of parameter <paramref name="parameter"/> survives.</summary>
    public bool IsAllowed(int parameter, int position) => _allowed[parameter][position];

    public IReadOnlyList<Design> Ask(int count) => _inner.Ask(count).Select(Repair).ToList();

    public void Tell(Design design, TrialOutcome outcome)
    {
        _inner.Tell(design, outcome);
        _told.Add(Individual.From(_context, design, outcome));
        if (_told.Count % _options.Every == 0) Shrink();
    }

    internal Design Repair(Design d)
    {
        var space = _context.Space;
        double[]? values = null;
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            if (!p.IsDiscrete)
            {
                double u = p.ToUnit(d[i]);
                if (u >= _lo[i] && u <= _hi[i]) continue;
                (values ??= d.ToArray())[i] = p.FromUnit(Math.Clamp(u, _lo[i], _hi[i]));
                continue;
            }
            int at = p.IndexOf(d[i]);
            if (_allowed[i][at]) continue;
            var ok = Enumerable.Range(0, p.Cardinality).Where(k => _allowed[i][k]).ToArray();
            int pick = p.Kind == ParameterKind.Categorical
                ? ok[_rng.Next(ok.Length)]
                : ok.OrderBy(k => Math.Abs(k - at)).ThenBy(k => k).First();
            (values ??= d.ToArray())[i] = p.ValueAt(pick);
        }
        return values is null ? d : space.Create(values);
    }

    private void Shrink()
    {
        var usable = _told.Where(t => t.Feasible).ToList();
        if (usable.Count < _options.MinDesigns) return;
        var order = ConstrainedRanking.Order(usable.Select(t => t.Objectives).ToArray(), usable.Select(t => t.Violation).ToArray());
        int take = Math.Max(_options.MinDesigns, (int)Math.Ceiling(_options.KeepTop * usable.Count));
        var top = order.Take(take).Select(i => usable[i].Design).ToArray();
        var space = _context.Space;
        var lost = new List<string>();
        var surviving = new Dictionary<string, object>(StringComparer.Ordinal);
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            if (!p.IsDiscrete)
            {
                double lo = top.Min(d => p.ToUnit(d[i])) - 0.05, hi = top.Max(d => p.ToUnit(d[i])) + 0.05;
                lo = Math.Max(lo, _lo[i]);
                hi = Math.Min(hi, _hi[i]);
                if (lo > _lo[i] || hi < _hi[i])
                {
                    lost.Add($"{p.Name} narrowed to [{TwoLevelExploration.Format(p.FromUnit(lo))}, {TwoLevelExploration.Format(p.FromUnit(hi))}]");
                    _lo[i] = lo;
                    _hi[i] = hi;
                }
                surviving[p.Name] = new[] { p.FromUnit(_lo[i]), p.FromUnit(_hi[i]) };
                continue;
            }
            var used = new HashSet<int>(top.Select(d => p.IndexOf(d[i])));
            var keep = Enumerable.Range(0, p.Cardinality).Where(k => _allowed[i][k] && used.Contains(k)).ToList();
            int current = _allowed[i].Count(a => a);
            if (keep.Count < Math.Min(_options.MinValues, current))
            {
                // Too few would survive: keep the most used surviving values, then the nearest ones.
                keep = Enumerable.Range(0, p.Cardinality).Where(k => _allowed[i][k])
                    .OrderByDescending(k => top.Count(d => p.IndexOf(d[i]) == k)).ThenBy(k => k)
                    .Take(Math.Min(_options.MinValues, current)).ToList();
            }
            var dropped = Enumerable.Range(0, p.Cardinality).Where(k => _allowed[i][k] && !keep.Contains(k)).ToList();
            if (dropped.Count > 0)
            {
                foreach (int k in dropped) _allowed[i][k] = false;
                lost.Add($"{p.Name} lost {string.Join(", ", dropped.Select(k => p.Format(p.ValueAt(k))))}");
            }
            surviving[p.Name] = keep.Select(k => p.Format(p.ValueAt(k))).ToArray();
        }
        if (lost.Count == 0) return;
        _shrinks++;
        _context.ReportEvent("space-shrunk",
            $"shrink {_shrinks} after {_told.Count} trials (top {top.Length} designs): {string.Join("; ", lost)}",
            JsonSerializer.Serialize(surviving));
    }
}
