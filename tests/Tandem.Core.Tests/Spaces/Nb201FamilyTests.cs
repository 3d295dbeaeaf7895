using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Spaces;

public class Nb201FamilyTests
{
    private static readonly Nb201Family Family = new();
    private static readonly DesignSpace Space = new(Family.Parameters);
    private static readonly TensorShape Cifar = new(3, 32, 32);

    private const string AllConv3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    private const string Index0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|";
    private const string AllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

    [Fact]
    public void The_space_has_six_edges_of_five_operations_and_arch_strings_round_trip()
    {
        Assert.Equal(15625, (int)Space.Size!.Value);
        Assert.Equal(["arch.edge_1_0", "arch.edge_2_0", "arch.edge_2_1", "arch.edge_3_0", "arch.edge_3_1", "arch.edge_3_2"], Space.Parameters.Select(p => p.Name));
        foreach (var arch in new[] { AllConv3, Index0, AllNone })
            Assert.Equal(arch, Nb201Family.ArchString(Nb201Family.FromArchString(Space, arch)));
        Assert.Equal(15625, Space.Enumerate().Select(Nb201Family.ArchString).Distinct().Count());
        Assert.Throws<SpaceException>(() => Nb201Family.ParseArchString("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"));
        Assert.Throws<SpaceException>(() => Nb201Family.ParseArchString("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|"));
    }

    /// <summary>
    /// Hand counts of NB201's TinyNetwork (C = 16, N = 5, CIFAR-10): the all-3×3 cell has 1,531,546
    /// parameters (NAS-Bench-201's largest model, 1.53 MB) and 220,119,680 multiply-accumulates (its
    /// 220 MFLOPs); the skeleton alone (stem, reductions, head) has 73,306 parameters and 7,783,040
    /// MACs (its smallest model, 0.07 MB / 7.78 MFLOPs).
    /// </summary>
    [Theory]
    [InlineData(AllConv3, 220_119_680L, 1_531_546L)]
    [InlineData(Index0, 15_647_360L, 129_306L)]
    [InlineData(AllNone, 7_783_040L, 73_306L)]
    public void Macs_and_parameters_match_hand_counts_of_the_benchmark_network(string arch, long macs, long parameters)
    {
        var w = Family.Lower(Nb201Family.FromArchString(Space, arch), Cifar, 10);
        Assert.Equal(macs, w.TotalMacs);
        Assert.Equal(parameters, w.TotalParameters);
    }

    [Fact]
    public void Lowering_a_32x32_input_gives_the_macro_skeleton_layer_by_layer()
    {
        var w = Family.Lower(Nb201Family.FromArchString(Space, Index0), Cifar, 10);
        // stem + 15 cells × 7 layers + 2 reductions × 7 layers + last BN-ReLU, pooling, classifier
        Assert.Equal(1 + 15 * 7 + 2 * 7 + 3, w.Layers.Length);
        var stem = Assert.IsType<Conv2dLayer>(w.Layers[0]);
        Assert.Equal((3, 16, 3, 1, true, Activation.None), (stem.InChannels, stem.OutChannels, stem.KernelHeight, stem.PadHeight, stem.BatchNorm, stem.Activation));
        Assert.Equal(new TensorShape(16, 32, 32), stem.Output);

        // cell edge 1←0 is a 3×3 average pool, stride 1, padding 1
        var pool = Assert.IsType<PoolLayer>(w.Layers.Single(l => l.Name == "s1.c1.e10.pool"));
        Assert.Equal((PoolKind.Average, 3, 1, 1), (pool.Kind, pool.Kernel, pool.Stride, pool.Pad));
        // nor_conv_1x1 is ReLU → conv → BN (pre-activation)
        int relu = w.Layers.IndexOf(w.Layers.Single(l => l.Name == "s1.c1.e20.relu"));
        Assert.Equal(ElementwiseOp.Activation, ((ElementwiseLayer)w.Layers[relu]).Op);
        var conv = Assert.IsType<Conv2dLayer>(w.Layers[relu + 1]);
        Assert.Equal([relu], conv.Inputs);
        Assert.Equal((1, true, Activation.None), (conv.KernelHeight, conv.BatchNorm, conv.Activation));
        // node 2 = conv(node 0) + skip(node 1): the addition reads the conv and the pool directly
        var add = Assert.IsType<ElementwiseLayer>(w.Layers.Single(l => l.Name == "s1.c1.n2"));
        Assert.Equal([relu + 1, w.Layers.IndexOf(pool)], add.Inputs);

        // reduction blocks: ReLU-conv3×3/2-BN, ReLU-conv3×3-BN, shortcut 2×2 avg pool + 1×1 conv (no BN), add
        var a = Assert.IsType<Conv2dLayer>(w.Layers.Single(l => l.Name == "r1.a.conv"));
        Assert.Equal((3, 2, 16, 32), (a.KernelHeight, a.StrideHeight, a.InChannels, a.OutChannels));
        var down = Assert.IsType<Conv2dLayer>(w.Layers.Single(l => l.Name == "r1.down.conv"));
        Assert.False(down.BatchNorm);
        Assert.Equal(new TensorShape(32, 16, 16), w.Layers.Single(l => l.Name == "r1.add").Output);
        Assert.Equal(new TensorShape(64, 8, 8), w.Layers.Single(l => l.Name == "r2.add").Output);
        Assert.Equal(new TensorShape(64, 8, 8), w.Layers.Single(l => l.Name == "s3.c5.n3").Output);

        var last = Assert.IsType<ElementwiseLayer>(w.Layers[^3]);
        Assert.True(last.Affine);
        Assert.Equal(128, last.Parameters);
        Assert.Equal(PoolKind.GlobalAverage, Assert.IsType<PoolLayer>(w.Layers[^2]).Kind);
        Assert.Equal(10, Assert.IsType<DenseLayer>(w.Layers[^1]).OutFeatures);
    }

    [Fact]
    public void None_edges_are_zero_layers_without_macs_and_a_16x16_input_lowers_too()
    {
        var w = Family.Lower(Nb201Family.FromArchString(Space, AllNone), new TensorShape(3, 16, 16), 120);
        Assert.Equal(15 * 6, w.Layers.Count(l => l is ElementwiseLayer { Op: ElementwiseOp.Multiply }));
        Assert.All(w.Layers.Where(l => l.Name.EndsWith(".zero", StringComparison.Ordinal)), l => Assert.Equal(0, l.Macs));
        Assert.Equal(new TensorShape(64, 4, 4), w.Layers.Single(l => l.Name == "r2.add").Output);
        Assert.Throws<WorkloadException>(() => Family.Lower(Nb201Family.FromArchString(Space, AllNone), new TensorShape(3, 2, 2), 10));
    }

    [Theory]
    [InlineData(AllNone, "none,none,none,none,none,none")]
    [InlineData(AllConv3, "nor_conv_3x3,nor_conv_3x3,nor_conv_3x3,nor_conv_3x3,nor_conv_3x3,nor_conv_3x3")]
    // Output cut off: nothing is live.
    [InlineData("|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|", "none,none,none,none,none,none")]
    // Nodes 1 and 2 feed nothing that reaches the output: only the input-to-output skip is live.
    [InlineData("|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|none~2|", "none,none,none,skip_connect,none,none")]
    // Node 1 never receives the input (edge 1←0 is none), so node 2's only live input is 2←0.
    [InlineData("|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|nor_conv_1x1~2|", "none,avg_pool_3x3,none,none,none,nor_conv_1x1")]
    [InlineData(Index0, "avg_pool_3x3,nor_conv_1x1,skip_connect,nor_conv_1x1,skip_connect,skip_connect")]
    public void Live_edges_keep_exactly_the_operations_on_input_to_output_paths(string arch, string expected)
    {
        var design = Nb201Family.FromArchString(Space, arch);
        var features = new double[Family.Features.Names.Count];
        Family.Features.Compute(design, features);
        Assert.Equal(expected.Split(','), features.Take(6).Select(f => Nb201Family.Operations[(int)f]));
        // 18 default features, then the optional path encoding (one length-scale group).
        Assert.Equal(18 + 84, Family.Features.Names.Count);
        Assert.All(Enumerable.Range(0, 102), i => Assert.Equal(i < 6, Family.Features.IsCategorical(i)));
        Assert.All(Enumerable.Range(0, 102), i => Assert.Equal(i >= 18, Family.Features.IsOptional(i)));
        Assert.All(Enumerable.Range(0, 102), i => Assert.Equal(i >= 18 ? "arch.path" : null, Family.Features.Group(i)));
        Assert.Equal(Family.Features.Names.Take(18), SelectedFeatures.Default(Family.Features).Names);
    }

    /// <summary>The eight counts of a known cell, by hand: live 1×1 on 1←0, 3×3 on 2←1, 3×3 on 3←2 and skip on 3←0; pooling on 2←0 is live too.</summary>
    [Fact]
    public void Live_form_counts_of_a_known_cell()
    {
        var design = Nb201Family.FromArchString(Space, "|nor_conv_1x1~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
        var features = new double[Family.Features.Names.Count];
        Family.Features.Compute(design, features);
        // skip 1, 1×1 1, 3×3 2, pool 1 (of 6); paths 0→3, 0→2→3, 0→1→2→3 (of 4); depth 3; convs on 0→1→2→3: 3; 3×3 on it: 2 (of 3)
        Assert.Equal([1 / 6.0, 1 / 6.0, 2 / 6.0, 1 / 6.0, 3 / 4.0, 1.0, 1.0, 2 / 3.0], features[6..14]);
        Assert.Equal(Nb201Family.LiveFormCountNames, Family.Features.Names.Skip(6).Take(8));
        // Every edge reaches the output here, so each one is executed: the same per-operation counts as the live form.
        Assert.Equal([1 / 6.0, 1 / 6.0, 2 / 6.0, 1 / 6.0], features[14..18]);
        Assert.Equal(Nb201Family.ExecutedCountNames, Family.Features.Names.Skip(14).Take(4));
    }

    /// <summary>
    /// Executed operations by hand. Node 2 feeds nothing (3←2 is none), so the edges into it are dropped;
    /// node 1 reaches the output through 3←1, so 1←0 is kept; 3←0 and 3←1 end at the output. With 1←0
    /// none, node 1 is always zero: 3←1 is still executed, but it is no longer live.
    /// </summary>
    [Fact]
    public void Executed_counts_keep_the_edges_whose_result_reaches_the_output()
    {
        // 1←0 3×3, 2←0 pool, 2←1 1×1, 3←0 1×1, 3←1 skip, 3←2 none
        var design = Nb201Family.FromArchString(Space, "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|none~2|");
        var features = new double[Family.Features.Names.Count];
        Family.Features.Compute(design, features);
        // executed: 3←0 1×1, 3←1 skip, 1←0 3×3; not 2←0, 2←1
        Assert.Equal([1 / 6.0, 1 / 6.0, 1 / 6.0, 0.0], features[14..18]);
        // 1←0 none: executed 3←0 1×1 and 3←1 skip; live only 3←0
        var cut = Nb201Family.FromArchString(Space, "|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|none~2|");
        Family.Features.Compute(cut, features);
        Assert.Equal([1 / 6.0, 1 / 6.0, 0.0, 0.0], features[14..18]);
        Assert.Equal(["none", "none", "none", "nor_conv_1x1", "none", "none"], features.Take(6).Select(f => Nb201Family.Operations[(int)f]));
    }

    /// <summary>
    /// The path encoding of a known cell, by hand: live paths 0→3 (skip), 0→1→3 (3×3, 3×3), 0→2→3
    /// (skip, 3×3) and 0→1→2→3 (3×3, 1×1, 3×3); a cell whose two two-edge paths carry the same
    /// sequence counts it twice (2/2); a dead path counts nothing.
    /// </summary>
    [Fact]
    public void Path_encoding_of_known_cells()
    {
        double[] Encoding(string arch)
        {
            var features = new double[Family.Features.Names.Count];
            Family.Features.Compute(Nb201Family.FromArchString(Space, arch), features);
            return features[18..];
        }
        int At(string name) => Nb201Family.PathEncodingNames.ToList().IndexOf("arch.path_" + name);
        var e = Encoding("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|");
        var expected = new double[84];
        expected[At("skip_connect")] = 0.5;
        expected[At("nor_conv_3x3-nor_conv_3x3")] = 0.5;
        expected[At("skip_connect-nor_conv_3x3")] = 0.5;
        expected[At("nor_conv_3x3-nor_conv_1x1-nor_conv_3x3")] = 0.5;
        Assert.Equal(expected, e);
        // 0→1→3 and 0→2→3 both pool then 1×1; 0→3 none; 1←0 pool, 2←1 none, so 0→1→2→3 is dead.
        e = Encoding("|avg_pool_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|");
        expected = new double[84];
        expected[At("avg_pool_3x3-nor_conv_1x1")] = 1.0;
        Assert.Equal(expected, e);
        Assert.Equal(84, Nb201Family.PathEncodingNames.Distinct().Count());
        Assert.Equal(-1, At("none"));
    }

    /// <summary>Every cell: an edge is live exactly when some path 0 → … → from → to → … → 3 of non-none edges uses it (all paths enumerated), and the path encoding counts those paths by their operation sequence.</summary>
    [Fact]
    public void Live_edges_match_path_enumeration_on_every_cell_and_in_a_joint_space()
    {
        var edges = Nb201Family.Edges;
        var joint = new DesignSpace(Family.Parameters.Append(new OrdinalParameter("hw.rows", [8, 16])).Prepend(new CategoricalParameter("comp.bits", ["8", "16"])));
        var features = new double[Family.Features.Names.Count];
        var jointFeatures = new double[Family.Features.Names.Count];
        foreach (var design in Space.Enumerate())
        {
            var ops = Enumerable.Range(0, 6).Select(e => (int)design[e]).ToArray();
            var live = new bool[6];
            int paths = 0, depth = 0, convs = 0, conv3 = 0;
            var sequences = new Dictionary<string, int>();
            void Walk(int node, List<int> path)
            {
                if (node == 3)
                {
                    foreach (int e in path) live[e] = true;
                    paths++;
                    string name = "arch.path_" + string.Join('-', path.Select(e => Nb201Family.Operations[ops[e]]));
                    sequences[name] = sequences.GetValueOrDefault(name) + 1;
                    depth = Math.Max(depth, path.Count);
                    convs = Math.Max(convs, path.Count(e => ops[e] is 2 or 3));
                    conv3 = Math.Max(conv3, path.Count(e => ops[e] == 3));
                    return;
                }
                for (int e = 0; e < 6; e++)
                    if (edges[e].From == node && ops[e] != 0) { path.Add(e); Walk(edges[e].To, path); path.RemoveAt(path.Count - 1); }
            }
            Walk(0, []);
            Family.Features.Compute(design, features);
            for (int e = 0; e < 6; e++) Assert.Equal(live[e] ? ops[e] : 0, (int)features[e]);
            for (int op = 1; op < 5; op++) Assert.Equal(Enumerable.Range(0, 6).Count(e => live[e] && ops[e] == op) / 6.0, features[5 + op]);
            Assert.Equal([paths / 4.0, depth / 3.0, convs / 3.0, conv3 / 3.0], features[10..14]);
            // Executed: edges with a path of non-none edges from their head to the output (node 3).
            bool Reaches(int node) => node == 3 || Enumerable.Range(0, 6).Any(e => edges[e].From == node && ops[e] != 0 && Reaches(edges[e].To));
            for (int op = 1; op < 5; op++) Assert.Equal(Enumerable.Range(0, 6).Count(e => ops[e] == op && Reaches(edges[e].To)) / 6.0, features[13 + op]);
            for (int k = 0; k < 84; k++) Assert.Equal(sequences.GetValueOrDefault(Nb201Family.PathEncodingNames[k]) / 2.0, features[18 + k]);
            var inJoint = joint.Create([1, .. design.Values, 16]);
            Family.Features.Compute(inJoint, jointFeatures);
            Assert.Equal(features, jointFeatures);
        }
    }
}
