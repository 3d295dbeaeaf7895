using Tandem.Core.Configuration;
using Tandem.Core.Spaces.Families;

namespace Tandem.Core.Accuracy;

/// <summary>
/// What an accuracy evaluator may need to be built: the network family being searched (supernets
/// are family-specific), a data folder given on the command line (overrides the config), the study
/// seed, and the working folder for relative paths.
/// </summary>
public sealed record AccuracyEnvironment
{
    public required INetworkFamily Family { get; init; }
    public string? DataDirectory { get; init; }
    public int Seed { get; init; }
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;
    public TimeProvider Time { get; init; } = TimeProvider.System;
    /// <summary>Designs the study evaluates at a time (<c>--workers</c>); evaluators that use a process-wide thread pool give each a share of the cores.</summary>
    public int Workers { get; init; } = 1;
}

/// <summary>Creates accuracy evaluators by fidelity name from their config options ("train", "supernet", "synflow", "table", …).</summary>
public sealed class AccuracyEvaluatorRegistry
{
    public delegate IAccuracyEvaluator Factory(ConfigMap options, AccuracyEnvironment environment);

    private readonly Dictionary<string, (Factory Create, string Description)> _factories = new(StringComparer.OrdinalIgnoreCase);

    public AccuracyEvaluatorRegistry Register(string name, string description, Factory factory)
    {
        _factories[name] = (factory, description);
        return this;
    }

    public IEnumerable<(string Name, string Description)> Available =>
        _factories.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (f.Key, f.Value.Description));

    public bool Contains(string name) => _factories.ContainsKey(name);

    public IAccuracyEvaluator Create(string name, ConfigMap options, AccuracyEnvironment environment)
    {
        if (_factories.TryGetValue(name, out var f)) return f.Create(options, environment);
        string? close = DidYouMean.Closest(name, _factories.Keys);
        throw new ConfigException(
            $"unknown accuracy evaluator '{name}';{(close != null ? $" did you mean '{close}'?" : "")} accepted: {string.Join(", ", _factories.Keys.Order())}");
    }
}
