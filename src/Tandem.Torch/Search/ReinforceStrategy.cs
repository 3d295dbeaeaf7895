using Tandem.Core.Configuration;
using Tandem.Core.Search;
using Tandem.Core.Search.Rewards;
using Tandem.Core.Spaces;
using Tandem.Core.Studies;
using TorchSharp;
using static TorchSharp.torch;

namespace Tandem.Torch.Search;

/// <summary>
/// Options of the REINFORCE controller. <see cref="Hidden"/> is the LSTM width; <see cref="LearningRate"/>
/// Adam's step; <see cref="EntropyWeight"/> the entropy bonus; <see cref="BaselineDecay"/> ∈ [0, 1) the
/// moving-average baseline's decay; <see cref="FloatBins"/> ≥ 2 the number of bins a float parameter is
/// decided in; <see cref="Reward"/> the reward section (see <c>RewardFactory</c>; null = default).
/// </summary>
public sealed record ReinforceOptions
{
    public int Hidden { get; init; } = 64;
    public double LearningRate { get; init; } = 0.01;
    public double EntropyWeight { get; init; } = 1e-3;
    public double BaselineDecay { get; init; } = 0.9;
    public int FloatBins { get; init; } = 8;
    public ConfigMap? Reward { get; init; }

    public static ReinforceOptions Bind(ConfigMap options)
    {
        options.CheckKeys(StrategyModifiers.AcceptedKeys("hidden", "learning_rate", "entropy_weight", "baseline_decay", "float_bins", "reward"));
        return new ReinforceOptions
        {
            Hidden = options.GetInt("hidden", 64, 4, 4096),
            LearningRate = options.GetDouble("learning_rate", 0.01, 1e-7, 10),
            EntropyWeight = options.GetDouble("entropy_weight", 1e-3, 0, 10),
            BaselineDecay = options.GetDouble("baseline_decay", 0.9, 0, 0.9999),
            FloatBins = options.GetInt("float_bins", 8, 2, 1024),
            Reward = options.GetMap("reward"),
        };
    }
}

/// <summary>
/// The RNN controller of the co-exploration papers (Zoph &amp; Le's NAS, used by co-exploration NAS,
/// APNAS, HotNAS, NASAIC): an LSTM makes one decision per parameter, in parameter order; each step
/// reads the embedding of the previous decision and a softmax head per parameter gives the
/// choice's probabilities (float parameters are decided among equal-width bins of their unit
/// interval and take the bin's centre). Trained by REINFORCE: after every told design, the
/// log-probability of its decisions (re-computed by teacher forcing, so designs the controller did
/// not propose — replays, two-level-tuned hardware — teach it too) is weighted by the advantage
/// (reward − moving-average baseline, divided by the running standard deviation of rewards), plus an
/// entropy bonus, and one Adam step is taken inside its own dispose scope. Weights are initialised
/// uniformly in ±0.1 from the seed and sampling uses a seeded <see cref="Random"/>, so the strategy
/// is deterministic given the seed and the tells. Not thread-safe (the runner calls it from one thread at a time).
/// </summary>
internal sealed class ReinforceStrategy : IStrategy, IDisposable
{
    private readonly StrategyContext _context;
    private readonly ReinforceOptions _options;
    private readonly IReward _reward;
    private readonly Random _rng;
    private readonly Controller _net;
    private readonly optim.Optimizer _optimizer;
    private readonly int[] _arity;
    private double? _baseline;
    private double _rewardMean, _rewardM2;
    private int _rewards;

    public ReinforceStrategy(StrategyContext context, ReinforceOptions options)
    {
        _context = context;
        _options = options;
        _reward = RewardFactory.Create(options.Reward, context);
        _rng = new Random(context.Seed);
        _arity = context.Space.Parameters.Select(p => p.IsDiscrete ? p.Cardinality : options.FloatBins).ToArray();
        _net = new Controller(_arity, options.Hidden);
        var init = new Random(unchecked(context.Seed * 7919 + 1));
        using (no_grad())
            foreach (var p in _net.parameters())
            {
                var values = new float[p.numel()];
                for (int i = 0; i < values.Length; i++) values[i] = (float)(init.NextDouble() * 0.2 - 0.1);
                using var t = tensor(values, p.shape);
                p.copy_(t);
            }
        _optimizer = optim.Adam(_net.parameters(), options.LearningRate);
    }

    public string Name => "rl";

    public IReadOnlyList<Design> Ask(int count)
    {
        var result = new List<Design>(count);
        for (int i = 0; i < count; i++) result.Add(Sample());
        return result;
    }

    public void Tell(Design design, TrialOutcome outcome)
    {
        double r = _reward.Compute(outcome);
        if (!double.IsFinite(r)) r = _reward.PrunedReward;
        // Running mean/variance of rewards (Welford) to scale the advantage.
        _rewards++;
        double delta = r - _rewardMean;
        _rewardMean += delta / _rewards;
        _rewardM2 += delta * (r - _rewardMean);
        double std = _rewards > 1 ? Math.Sqrt(_rewardM2 / (_rewards - 1)) : 1;
        _baseline ??= r;
        double advantage = (r - _baseline.Value) / (std > 1e-12 ? std : 1);
        _baseline = _options.BaselineDecay * _baseline.Value + (1 - _options.BaselineDecay) * r;

        var choices = Encode(design);
        using var scope = NewDisposeScope();
        var (logProb, entropy) = _net.Score(choices);
        var loss = -(logProb * advantage) - entropy * _options.EntropyWeight;
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
    }

    private Design Sample()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probs = _net.Probabilities(choice => Draw(choice));
        var space = _context.Space;
        var values = new double[space.Count];
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            values[i] = p.IsDiscrete ? p.ValueAt(probs[i]) : p.FromUnit((probs[i] + 0.5) / _options.FloatBins);
        }
        return space.Create(values);
    }

    private int Draw(float[] p)
    {
        double u = _rng.NextDouble(), acc = 0;
        for (int k = 0; k < p.Length; k++)
        {
            acc += p[k];
            if (u < acc) return k;
        }
        return p.Length - 1;
    }

    private int[] Encode(Design d)
    {
        var space = _context.Space;
        var c = new int[space.Count];
        for (int i = 0; i < space.Count; i++)
        {
            var p = space[i];
            c[i] = p.IsDiscrete ? p.IndexOf(d[i]) : Math.Clamp((int)(p.ToUnit(d[i]) * _options.FloatBins), 0, _options.FloatBins - 1);
        }
        return c;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _net.Dispose();
    }

    /// <summary>LSTM controller: embedding of the previous decision → LSTM cell → per-parameter softmax head.</summary>
    private sealed class Controller : nn.Module
    {
        private readonly int[] _arity;
        private readonly int[] _offset;
        private readonly int _hidden;
        private readonly TorchSharp.Modules.Embedding _embedding;
        private readonly TorchSharp.Modules.LSTMCell _cell;
        private readonly TorchSharp.Modules.ModuleList<TorchSharp.Modules.Linear> _heads;

        public Controller(int[] arity, int hidden) : base("controller")
        {
            _arity = arity;
            _hidden = hidden;
            _offset = new int[arity.Length];
            for (int i = 1; i < arity.Length; i++) _offset[i] = _offset[i - 1] + arity[i - 1];
            int tokens = arity.Sum() + 1; // + the start token
            _embedding = nn.Embedding(tokens, hidden);
            _cell = nn.LSTMCell(hidden, hidden);
            _heads = nn.ModuleList(arity.Select(a => nn.Linear(hidden, a)).ToArray());
            RegisterComponents();
        }

        private int StartToken => _arity.Sum();

        /// <summary>Samples decisions one by one with <paramref name="draw"/> (probabilities → choice).</summary>
        public int[] Probabilities(Func<float[], int> draw)
        {
            var choices = new int[_arity.Length];
            int token = StartToken;
            Tensor h = zeros(1, _hidden), c = zeros(1, _hidden);
            for (int i = 0; i < _arity.Length; i++)
            {
                (h, c) = _cell.forward(_embedding.forward(tensor(new long[] { token })), (h, c));
                var p = nn.functional.softmax(_heads[i].forward(h), 1).data<float>().ToArray();
                choices[i] = draw(p);
                token = _offset[i] + choices[i];
            }
            return choices;
        }

        /// <summary>Sum of the log-probabilities of given decisions and of the entropies of each step's distribution.</summary>
        public (Tensor LogProb, Tensor Entropy) Score(int[] choices)
        {
            int token = StartToken;
            Tensor h = zeros(1, _hidden), c = zeros(1, _hidden);
            Tensor logProb = zeros(1), entropy = zeros(1);
            for (int i = 0; i < _arity.Length; i++)
            {
                (h, c) = _cell.forward(_embedding.forward(tensor(new long[] { token })), (h, c));
                var logits = _heads[i].forward(h);
                var logp = nn.functional.log_softmax(logits, 1);
                logProb = logProb + logp[0, choices[i]];
                entropy = entropy - (logp.exp() * logp).sum();
                token = _offset[i] + choices[i];
            }
            return (logProb.sum(), entropy.sum());
        }
    }
}
