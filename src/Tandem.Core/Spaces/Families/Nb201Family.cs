using Tandem.Core.Accuracy.Tabular;
using Tandem.Core.Workloads;

namespace Tandem.Core.Spaces.Families;

/// <summary>Macro-skeleton sizes of the NAS-Bench-201 family (the benchmark's are C = 16, N = 5).</summary>
public sealed record Nb201Options
{
    /// <summary>Channels of the first stage (doubled at each reduction).</summary>
    public int InitChannels { get; init; } = 16;

    /// <summary>Cells per stage.</summary>
    public int CellsPerStage { get; init; } = 5;
}

/// <summary>
/// The NAS-Bench-201 / NATS-Bench topology space: one cell with 4 nodes and 6 edges (node i ← node
/// j for j &lt; i), each edge one of <c>none</c>, <c>skip_connect</c>, <c>nor_conv_1x1</c>,
/// <c>nor_conv_3x3</c>, <c>avg_pool_3x3</c>: 5⁶ = 15,625 cells. Parameters are named
/// <c>arch.edge_{i}_{j}</c> in the order of the benchmark's architecture strings
/// (<c>|op~0|+|op~0|op~1|+|op~0|op~1|op~2|</c>). Lowering follows the benchmark's TinyNetwork:
/// stem (3×3 conv, BN), three stages of N cells at C, 2C, 4C channels separated by residual
/// reduction blocks (ReLU-conv3×3/2-BN, ReLU-conv3×3-BN, shortcut 2×2 avg-pool + 1×1 conv, add),
/// then BN-ReLU, global average pooling and the classifier. In the IR: a <c>nor_conv</c> edge is an
/// element-wise ReLU followed by a conv with BN (pre-activation, as in ReLUConvBN); <c>avg_pool_3x3</c>
/// is a 3×3 average pool, stride 1, padding 1; <c>skip_connect</c> adds no layer (the node reads its
/// source); <c>none</c> is an element-wise ×0 layer (the benchmark's Zero computes x·0, no MACs or
/// parameters); each node with two or more inputs is an element-wise addition; the final BN is an
/// affine element-wise ReLU layer. Designs are never canonicalised: the benchmark trained every one
/// of the 15,625 cells, isomorphic or not, and reports a different accuracy for each.
/// </summary>
public sealed class Nb201Family : ITableKeyedFamily
{
    public const string FamilyName = "nb201";

    /// <summary>The five operations, in NAS-Bench-201's order.</summary>
    public static IReadOnlyList<string> Operations { get; } = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"];

    /// <summary>The six edges as (to, from), in architecture-string order.</summary>
    public static IReadOnlyList<(int To, int From)> Edges { get; } = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

    public Nb201Family(Nb201Options? options = null)
    {
        Options = options ?? new Nb201Options();
        if (Options.InitChannels < 1) throw new SpaceException($"nb201: init channels must be ≥ 1 (got {Options.InitChannels})");
        if (Options.CellsPerStage < 1) throw new SpaceException($"nb201: cells per stage must be ≥ 1 (got {Options.CellsPerStage})");
        Parameters = Edges.Select(e => (Parameter)new CategoricalParameter(ParameterName(e.To, e.From), Operations)).ToArray();
    }

    public Nb201Options Options { get; }
    public string Name => FamilyName;
    public IReadOnlyList<Parameter> Parameters { get; }

    public string TableKey(Design design) => ArchString(design);

    /// <summary>
    /// The live form of the cell and what it is made of. First one categorical feature per edge
    /// (<c>arch.live_edge_{to}_{from}</c>): the edge's operation if it lies on a path of non-<c>none</c>
    /// edges from the cell input (node 0) to its output (node 3), else <c>none</c>. Cells with the same
    /// live form compute the same function (an edge off every such path either reads a node that is
    /// always zero or feeds one that never reaches the output), which is what a surrogate of accuracy
    /// should know; the raw parameters still tell it what is computed, which is what latency depends
    /// on. Then eight ordered features of the live form, each divided by its largest value so that it
    /// lies in [0, 1]: the number of live edges of each operation (skip, 1×1 convolution, 3×3
    /// convolution, pooling; of 6), the number of live input-to-output paths (of 4: 0→3, 0→1→3,
    /// 0→2→3, 0→1→2→3), the longest live path (edges, of 3), and the most convolutions and the most
    /// 3×3 convolutions on one live path (of 3). Categorical features alone only tell a kernel that two
    /// cells share an edge; the counts let it learn that, say, a second 3×3 convolution on the path
    /// helps in any position (docs/search.md measures what that does to the model and the search).
    /// These fourteen are functions of the live form, so cells of one live form have equal values.
    /// Last, four ordered counts of the operations a deployed cell still executes (of 6): the
    /// non-<c>none</c> edges whose result reaches the output, whether or not the input reaches them
    /// (<see cref="ExecutedCounts"/>). Dead-code elimination removes an operation whose result nobody
    /// uses, but not one that reads a node that is always zero, so on HW-NAS-Bench's measured latencies a
    /// model additive in the executed edges' costs fits better than one in the live or all non-none
    /// edges (docs/search.md, "What a deployed cell executes"). They are the only
    /// features that differ within a live form; being ordered, they do not split
    /// <c>membership_class_cap</c>'s classes, which are the categorical features.
    /// Optional (used only when selected by name, e.g. <c>features: [arch.live_*, arch.path_*]</c>):
    /// the live form's path encoding (BANANAS, White et al., AAAI 2021), one ordered count per operation
    /// sequence of length 1–3 (<c>arch.path_{op}-{op}…</c>, 84 of them, see <see cref="PathEncoding"/>),
    /// all in one length-scale group, so a kernel compares cells by how many live paths of each
    /// sequence they have.
    /// </summary>
    public IDesignFeatures Features => LiveFormFeatures.Instance;

    /// <summary>The live form of a cell given as six operation indices (architecture-string order); see <see cref="Features"/>.</summary>
    public static void LiveEdges(ReadOnlySpan<int> ops, Span<int> live)
    {
        // Forward: nodes reachable from the input; backward: nodes that reach the output.
        Span<bool> fromInput = stackalloc bool[4];
        Span<bool> toOutput = stackalloc bool[4];
        fromInput[0] = true;
        for (int e = 0; e < Edges.Count; e++)
            if (ops[e] != 0 && fromInput[Edges[e].From]) fromInput[Edges[e].To] = true;
        ReachOutput(ops, toOutput);
        for (int e = 0; e < Edges.Count; e++)
            live[e] = ops[e] != 0 && fromInput[Edges[e].From] && toOutput[Edges[e].To] ? ops[e] : 0;
    }

    /// <summary>Marks the nodes (of 4) from which a path of non-<c>none</c> edges leads to the output, node 3.</summary>
    private static void ReachOutput(ReadOnlySpan<int> ops, Span<bool> toOutput)
    {
        toOutput.Clear();
        toOutput[3] = true;
        // Edges are ordered by head node, so walking them backwards settles node 3's inputs before node 2's and node 1's.
        for (int e = Edges.Count - 1; e >= 0; e--)
            if (ops[e] != 0 && toOutput[Edges[e].To]) toOutput[Edges[e].From] = true;
    }

    /// <summary>The cell's input-to-output paths as edge indices (architecture-string order): 0→3, 0→1→3, 0→2→3, 0→1→2→3.</summary>
    private static readonly int[][] Paths = [[3], [0, 4], [1, 5], [0, 2, 5]];

    /// <summary>Names of the ordered features after the six live edges (see <see cref="Features"/>).</summary>
    public static IReadOnlyList<string> LiveFormCountNames { get; } =
        ["arch.live_skip_connect", "arch.live_nor_conv_1x1", "arch.live_nor_conv_3x3", "arch.live_avg_pool_3x3",
         "arch.live_paths", "arch.live_depth", "arch.live_convs_on_path", "arch.live_conv_3x3_on_path"];

    /// <summary>The eight ordered features of a live form (six operation indices), each in [0, 1]; see <see cref="Features"/>.</summary>
    public static void LiveFormCounts(ReadOnlySpan<int> live, Span<double> counts)
    {
        OperationShares(live, counts);
        int paths = 0, depth = 0, convs = 0, conv3 = 0;
        foreach (var path in Paths)
        {
            int c = 0, c3 = 0;
            bool alive = true;
            foreach (int e in path)
            {
                if (live[e] == 0) { alive = false; break; }
                if (live[e] == 2 || live[e] == 3) c++;
                if (live[e] == 3) c3++;
            }
            if (!alive) continue;
            paths++;
            depth = Math.Max(depth, path.Length);
            convs = Math.Max(convs, c);
            conv3 = Math.Max(conv3, c3);
        }
        counts[4] = paths / 4.0;
        counts[5] = depth / 3.0;
        counts[6] = convs / 3.0;
        counts[7] = conv3 / 3.0;
    }

    /// <summary>The operation sequences of the path encoding: length 1, 2, 3, each in lexicographic order of operation indices 1–4 (84).</summary>
    public static IReadOnlyList<int[]> PathSequences { get; } =
        Enumerable.Range(1, 3).SelectMany(length => Enumerable.Range(0, 1 << (2 * length)).Select(code =>
            Enumerable.Range(0, length).Select(k => 1 + ((code >> (2 * (length - 1 - k))) & 3)).ToArray())).ToArray();

    /// <summary>Names of the path-encoding features, in <see cref="PathSequences"/> order.</summary>
    public static IReadOnlyList<string> PathEncodingNames { get; } =
        PathSequences.Select(seq => "arch.path_" + string.Join('-', seq.Select(op => Operations[op]))).ToArray();

    /// <summary>
    /// The path encoding of a live form (six operation indices): per operation sequence of
    /// <see cref="PathSequences"/>, the number of live input-to-output paths whose edges carry it, in
    /// path order from input to output, divided by 2 (the most any sequence can have: the two paths of
    /// two edges). A path is live when none of its edges is <c>none</c> in the live form.
    /// </summary>
    public static void PathEncoding(ReadOnlySpan<int> live, Span<double> encoding)
    {
        encoding[..PathSequences.Count].Clear();
        foreach (var path in Paths)
        {
            int index = 0, offset = 0;
            for (int length = 1; length < path.Length; length++) offset += 1 << (2 * length);
            bool alive = true;
            foreach (int e in path)
            {
                if (live[e] == 0) { alive = false; break; }
                index = index * 4 + live[e] - 1;
            }
            if (alive) encoding[offset + index] += 0.5;
        }
    }

    /// <summary>Names of the four executed-operation counts, the last features of the default set (see <see cref="Features"/>).</summary>
    public static IReadOnlyList<string> ExecutedCountNames { get; } =
        ["arch.executed_skip_connect", "arch.executed_nor_conv_1x1", "arch.executed_nor_conv_3x3", "arch.executed_avg_pool_3x3"];

    /// <summary>
    /// Of six operation indices (architecture-string order): per operation (skip, 1×1, 3×3, pooling),
    /// the number of edges carrying it whose result reaches the output along non-<c>none</c> edges,
    /// divided by 6. Unlike the live form, the input need not reach the edge.
    /// </summary>
    public static void ExecutedCounts(ReadOnlySpan<int> ops, Span<double> counts)
    {
        Span<bool> toOutput = stackalloc bool[4];
        ReachOutput(ops, toOutput);
        Span<int> executed = stackalloc int[6];
        for (int e = 0; e < Edges.Count; e++) executed[e] = toOutput[Edges[e].To] ? ops[e] : 0;
        OperationShares(executed, counts);
    }

    /// <summary>Of six operation indices: per operation (skip, 1×1, 3×3, pooling), the number of edges carrying it divided by 6, into counts[0..4].</summary>
    private static void OperationShares(ReadOnlySpan<int> form, Span<double> counts)
    {
        Span<int> ofOp = stackalloc int[5];
        for (int e = 0; e < 6; e++) ofOp[form[e]]++;
        for (int op = 1; op < 5; op++) counts[op - 1] = ofOp[op] / 6.0;
    }

    private sealed class LiveFormFeatures : IDesignFeatures
    {
        public static readonly LiveFormFeatures Instance = new();
        private sealed record Lookup(DesignSpace Space, int[] Index);
        private Lookup? _lookup; // replaced whole, so concurrent readers see a consistent pair

        public IReadOnlyList<string> Names { get; } = Edges.Select(e => $"arch.live_edge_{e.To}_{e.From}").Concat(LiveFormCountNames).Concat(ExecutedCountNames).Concat(PathEncodingNames).ToArray();

        private const int PathsAt = 18; // the path encoding follows the six live edges and twelve counts

        public bool IsCategorical(int index) => index < 6;

        public string? Group(int index) => index >= PathsAt ? "arch.path" : null;

        public bool IsOptional(int index) => index >= PathsAt;

        public void Compute(Design design, Span<double> destination)
        {
            var space = design.Space;
            var lookup = _lookup;
            if (lookup is null || !ReferenceEquals(lookup.Space, space))
                _lookup = lookup = new Lookup(space, Edges.Select(e => space.IndexOf(ParameterName(e.To, e.From))).ToArray());
            var index = lookup.Index;
            Span<int> ops = stackalloc int[6];
            Span<int> live = stackalloc int[6];
            for (int e = 0; e < 6; e++) ops[e] = (int)design[index[e]];
            LiveEdges(ops, live);
            for (int e = 0; e < 6; e++) destination[e] = live[e];
            LiveFormCounts(live, destination.Slice(6, 8));
            ExecutedCounts(ops, destination.Slice(14, 4));
            PathEncoding(live, destination.Slice(PathsAt, PathSequences.Count));
        }
    }

    public static string ParameterName(int to, int from) => $"arch.edge_{to}_{from}";

    /// <summary>The benchmark's architecture string of a design, e.g. "|nor_conv_3x3~0|+|…".</summary>
    public static string ArchString(Design design)
    {
        var ops = Edges.Select(e => design.GetString(ParameterName(e.To, e.From))).ToArray();
        return $"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|";
    }

    /// <summary>Parses an architecture string into edge operations (to, from, op) or throws <see cref="SpaceException"/>.</summary>
    public static IReadOnlyList<string> ParseArchString(string arch)
    {
        var nodes = arch.Split('+');
        var ops = new List<string>();
        if (nodes.Length != 3) throw new SpaceException($"'{arch}' is not a NAS-Bench-201 architecture string (expected 3 nodes separated by '+')");
        for (int i = 0; i < 3; i++)
        {
            var parts = nodes[i].Trim('|').Split('|');
            if (parts.Length != i + 1) throw new SpaceException($"'{arch}': node {i + 1} must have {i + 1} inputs");
            for (int j = 0; j < parts.Length; j++)
            {
                var pair = parts[j].Split('~');
                if (pair.Length != 2 || pair[1] != j.ToString(System.Globalization.CultureInfo.InvariantCulture) || !Operations.Contains(pair[0]))
                    throw new SpaceException($"'{arch}': '{parts[j]}' is not OP~{j} with OP one of {string.Join(", ", Operations)}");
                ops.Add(pair[0]);
            }
        }
        return ops;
    }

    /// <summary>The design of an architecture string in the space <paramref name="space"/> (which must contain this family's parameters).</summary>
    public static Design FromArchString(DesignSpace space, string arch, Design? rest = null)
    {
        var ops = ParseArchString(arch);
        var values = rest?.ToArray() ?? space.Parameters.Select(p => p.IsDiscrete ? p.ValueAt(0) : p.FromUnit(0)).ToArray();
        for (int e = 0; e < Edges.Count; e++)
        {
            int idx = space.IndexOf(ParameterName(Edges[e].To, Edges[e].From));
            values[idx] = Operations.ToList().IndexOf(ops[e]);
        }
        return space.Create(values);
    }

    public Workload Lower(Design design, TensorShape input, int numClasses)
    {
        int c = Options.InitChannels;
        if (input.Height < 4 || input.Width < 4)
            throw new WorkloadException($"nb201: the two stride-2 reductions need an input of at least 4x4 pixels (got {input.Height}x{input.Width})");
        var ops = Edges.Select(e => design.GetString(ParameterName(e.To, e.From))).ToArray();
        var b = new WorkloadBuilder("nb201 " + ArchString(design), input);
        b.Conv(c, 3, pad: 1, activation: Activation.None, name: "stem");
        for (int stage = 1; stage <= 3; stage++)
        {
            int channels = c << (stage - 1);
            if (stage > 1) Reduction(b, channels, $"r{stage - 1}");
            for (int cell = 1; cell <= Options.CellsPerStage; cell++) Cell(b, ops, $"s{stage}.c{cell}");
        }
        var shape = b.CurrentShape;
        b.Append(new ElementwiseLayer { Name = "lastact", Input = shape, Op = ElementwiseOp.Activation, Activation = Activation.ReLU, Affine = true });
        b.Pool(PoolKind.GlobalAverage, name: "gap");
        b.Dense(numClasses, name: "classifier");
        return b.Build();
    }

    private static void Cell(WorkloadBuilder b, string[] ops, string prefix)
    {
        var nodes = new int[4];
        nodes[0] = b.Current;
        int e = 0;
        for (int to = 1; to <= 3; to++)
        {
            var inputs = new List<int>();
            for (int from = 0; from < to; from++, e++)
                inputs.Add(Edge(b, ops[e], nodes[from], $"{prefix}.e{to}{from}"));
            nodes[to] = inputs.Count == 1 ? inputs[0] : b.Add(inputs, name: $"{prefix}.n{to}");
        }
        b.MoveTo(nodes[3]);
    }

    private static int Edge(WorkloadBuilder b, string op, int source, string name)
    {
        var shape = b.ShapeOf(source);
        switch (op)
        {
            case "none":
                return b.Append(new ElementwiseLayer { Name = name + ".zero", Input = shape, Inputs = [source], Op = ElementwiseOp.Multiply });
            case "skip_connect":
                return source;
            case "avg_pool_3x3":
                return b.Pool(PoolKind.Average, 3, 1, 1, name: name + ".pool", from: source);
            default:
            {
                int k = op == "nor_conv_3x3" ? 3 : 1;
                int relu = b.Append(new ElementwiseLayer { Name = name + ".relu", Input = shape, Inputs = [source], Op = ElementwiseOp.Activation, Activation = Activation.ReLU });
                return b.Conv(shape.Channels, k, pad: k / 2, activation: Activation.None, name: name + ".conv", from: relu);
            }
        }
    }

    private static void Reduction(WorkloadBuilder b, int channels, string prefix)
    {
        int input = b.Current;
        var shape = b.CurrentShape;
        int reluA = b.Append(new ElementwiseLayer { Name = prefix + ".a.relu", Input = shape, Inputs = [input], Op = ElementwiseOp.Activation, Activation = Activation.ReLU });
        int convA = b.Conv(channels, 3, stride: 2, pad: 1, activation: Activation.None, name: prefix + ".a.conv", from: reluA);
        int reluB = b.Append(new ElementwiseLayer { Name = prefix + ".b.relu", Input = b.ShapeOf(convA), Inputs = [convA], Op = ElementwiseOp.Activation, Activation = Activation.ReLU });
        int convB = b.Conv(channels, 3, pad: 1, activation: Activation.None, name: prefix + ".b.conv", from: reluB);
        int pool = b.Pool(PoolKind.Average, 2, 2, name: prefix + ".down.pool", from: input);
        int proj = b.Conv(channels, 1, pad: 0, batchNorm: false, activation: Activation.None, name: prefix + ".down.conv", from: pool);
        b.Add([proj, convB], name: prefix + ".add");
    }
}
