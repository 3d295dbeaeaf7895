using Tandem.Core.Accuracy;
using Tandem.Core.Configuration;
using Tandem.Core.Hardware;
using Tandem.Core.Search;
using Tandem.Core.Spaces.Families;

namespace Tandem.Core.Studies;

/// <summary>
/// Everything a study config can name: network families, accelerator templates, accuracy
/// evaluators and strategies, each created from its config section. Core registers its own
/// components; the Torch project adds training evaluators and the RL strategy; the CLI composes them.
/// </summary>
public sealed class ComponentCatalog
{
    public delegate INetworkFamily FamilyFactory(ConfigMap options);
    public delegate IAcceleratorTemplate TemplateFactory(ConfigMap options);

    private readonly Dictionary<string, (FamilyFactory Create, string Description, IReadOnlyList<string> Keys)> _families = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (TemplateFactory Create, string Description, IReadOnlyList<string> Keys)> _templates = new(StringComparer.OrdinalIgnoreCase);

    public AccuracyEvaluatorRegistry Evaluators { get; } = new();
    public StrategyRegistry Strategies { get; } = new();

    /// <summary>Registers a family; <paramref name="keys"/> are its option keys (besides "family"), checked for typos.</summary>
    public ComponentCatalog AddFamily(string name, string description, IReadOnlyList<string> keys, FamilyFactory factory)
    {
        _families[name] = (factory, description, keys);
        return this;
    }

    public ComponentCatalog AddTemplate(string name, string description, IReadOnlyList<string> keys, TemplateFactory factory)
    {
        _templates[name] = (factory, description, keys);
        return this;
    }

    public IEnumerable<(string Name, string Description)> Families => _families.OrderBy(f => f.Key).Select(f => (f.Key, f.Value.Description));
    public IEnumerable<(string Name, string Description)> Templates => _templates.OrderBy(f => f.Key).Select(f => (f.Key, f.Value.Description));

    public INetworkFamily CreateFamily(string name, ConfigMap options, ConfigNode where)
    {
        if (!_families.TryGetValue(name, out var f)) throw Unknown("network family", name, _families.Keys, where);
        options.CheckKeys(f.Keys.Prepend("family"));
        return f.Create(options);
    }

    public IAcceleratorTemplate CreateTemplate(string name, ConfigMap options, ConfigNode where)
    {
        if (!_templates.TryGetValue(name, out var t)) throw Unknown("accelerator template", name, _templates.Keys, where);
        options.CheckKeys(t.Keys.Prepend("template"));
        return t.Create(options);
    }

    private static ConfigException Unknown(string what, string name, IEnumerable<string> known, ConfigNode where)
    {
        var all = known.Order(StringComparer.Ordinal).ToArray();
        string? close = DidYouMean.Closest(name, all);
        return where.Error($"unknown {what} '{name}';{(close != null ? $" did you mean '{close}'?" : "")} accepted: {string.Join(", ", all)}");
    }
}
