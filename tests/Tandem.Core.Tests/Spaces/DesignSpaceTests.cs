using Tandem.Core.Spaces;
using Tandem.Core.Spaces.Families;
using Tandem.Core.Workloads;

namespace Tandem.Core.Tests.Spaces;

public class DesignSpaceTests
{
    private static DesignSpace Space() => new([
        new CategoricalParameter("hw.dataflow", ["os", "ws", "is"]),
        new OrdinalParameter("hw.rows", [8, 16, 32]),
        new IntegerParameter("arch.depth", 1, 7, 2),
        new FloatParameter("comp.lr", 1e-4, 1e-1, log: true),
    ]);

    [Fact]
    public void Designs_round_trip_through_text_and_keys_are_stable()
    {
        var space = Space();
        var d = space.Sample(new Random(3));
        var back = space.Parse(d.ToTextMap());
        Assert.Equal(d, back);
        Assert.Equal(d.Key, back.Key);
        Assert.StartsWith("hw.dataflow=", d.Key);
    }

    [Fact]
    public void Same_seed_gives_same_samples()
    {
        var a = Enumerable.Range(0, 20).Select(_ => 0).Aggregate(new List<Design>(), (l, _) => l);
        var r1 = new Random(42);
        var r2 = new Random(42);
        for (int i = 0; i < 50; i++) Assert.Equal(Space().Sample(r1).Key, Space().Sample(r2).Key);
    }

    [Fact]
    public void Integer_parameter_respects_step_and_domain()
    {
        var p = new IntegerParameter("arch.depth", 1, 8, 2);
        Assert.Equal(7, p.Max);
        Assert.Equal(4, p.Cardinality);
        Assert.True(p.Contains(5));
        Assert.False(p.Contains(4));
        Assert.Null(p.Parse("4", out var err));
        Assert.Contains("accepted: [1, 7] step 2", err);
    }

    [Fact]
    public void Log_float_maps_to_unit_interval_and_back()
    {
        var p = new FloatParameter("lr", 1e-4, 1e-1, log: true);
        Assert.Equal(0.5, p.ToUnit(Math.Sqrt(1e-4 * 1e-1)), 9);
        Assert.Equal(1e-2, p.FromUnit(p.ToUnit(1e-2)), 12);
    }

    [Fact]
    public void Enumeration_streams_in_mixed_radix_order_and_counts_the_size()
    {
        var space = new DesignSpace([
            new CategoricalParameter("a", ["x", "y"]),
            new OrdinalParameter("b", [1, 2, 3]),
        ]);
        var all = space.Enumerate().Select(d => d.Key).ToArray();
        Assert.Equal(6, all.Length);
        Assert.Equal("a=x;b=1", all[0]);
        Assert.Equal("a=x;b=2", all[1]);
        Assert.Equal("a=y;b=3", all[5]);
        Assert.Equal(6, (int)space.Size!.Value);

        var huge = new DesignSpace(Enumerable.Range(0, 40).Select(i => new OrdinalParameter($"p{i}", [1, 2, 3, 4])));
        Assert.Equal(1000, huge.Enumerate().Take(1000).Count()); // 4^40 designs: must stream
    }

    [Fact]
    public void Bad_spaces_are_rejected_with_the_parameter_name()
    {
        Assert.Contains("'x' is defined twice", Assert.Throws<SpaceException>(() =>
            new DesignSpace([new OrdinalParameter("x", [1]), new OrdinalParameter("x", [2])])).Message);
        Assert.Contains("no choices", Assert.Throws<SpaceException>(() => new CategoricalParameter("c", [])).Message);
        Assert.Contains("below min", Assert.Throws<SpaceException>(() => new FloatParameter("f", 2, 1)).Message);
        Assert.Throws<SpaceException>(() => new DesignSpace([]));
    }

    [Fact]
    public void Parse_names_unknown_and_missing_parameters()
    {
        var space = Space();
        var map = space.Sample(new Random(1)).ToTextMap().ToDictionary();
        map["hw.colums"] = "8";
        Assert.Contains("unknown parameter 'hw.colums'", Assert.Throws<SpaceException>(() => space.Parse(map)).Message);
        map.Remove("hw.colums");
        map.Remove("hw.rows");
        Assert.Contains("hw.rows", Assert.Throws<SpaceException>(() => space.Parse(map)).Message);
    }

    [Fact]
    public void Signature_changes_when_a_domain_changes()
    {
        var a = new DesignSpace([new OrdinalParameter("hw.rows", [8, 16])]);
        var b = new DesignSpace([new OrdinalParameter("hw.rows", [8, 16, 32])]);
        Assert.NotEqual(a.Signature, b.Signature);
        Assert.Equal(a.Signature, new DesignSpace([new OrdinalParameter("hw.rows", [16, 8])]).Signature);
    }
}

public class PlainCnnFamilyTests
{
    private static readonly TensorShape Grey28 = new(1, 28, 28);

    [Fact]
    public void Lowers_stages_with_pooling_between_and_a_dense_head()
    {
        var family = new PlainCnnFamily();
        var space = new DesignSpace(family.Parameters);
        var d = space.Create(space.Parameters.Select(p => p.Name switch
        {
            "arch.s1.layers" => 2.0, "arch.s1.channels" => 16, "arch.s1.kernel" => 3, "arch.s1.residual" => 1,
            "arch.s2.layers" => 1, "arch.s2.channels" => 32, "arch.s2.kernel" => 5, "arch.s2.residual" => 0,
            "arch.s3.layers" => 3, "arch.s3.channels" => 64, "arch.s3.kernel" => 3, "arch.s3.residual" => 0,
            "arch.pool" => 0, _ => throw new InvalidOperationException(p.Name),
        }).ToArray());
        var w = family.Lower(d, Grey28, 10);
        var convs = w.Layers.OfType<Conv2dLayer>().ToArray();
        Assert.Equal(6, convs.Length);
        Assert.Equal(2, w.Layers.OfType<PoolLayer>().Count());
        Assert.Single(w.Layers.OfType<ElementwiseLayer>()); // residual in stage 1 only
        Assert.Equal(new TensorShape(64, 7, 7), w.Layers[^2].Output);
        long expectedMacs = 28L * 28 * 16 * 1 * 9 + 28L * 28 * 16 * 16 * 9 + 14L * 14 * 32 * 16 * 25
            + 7L * 7 * 64 * 32 * 9 + 2 * 7L * 7 * 64 * 64 * 9 + 64L * 49 * 10;
        Assert.Equal(expectedMacs, w.TotalMacs);
    }

    [Fact]
    public void Canonicalisation_ignores_residual_on_single_layer_stages()
    {
        var family = new PlainCnnFamily();
        var space = new DesignSpace(family.Parameters);
        var d = space.Sample(new Random(5)).With("arch.s1.layers", 1);
        var yes = family.Canonicalize(d.With("arch.s1.residual", 1));
        var no = family.Canonicalize(d.With("arch.s1.residual", 0));
        Assert.Equal(no.Key, yes.Key);
        Assert.Equal(family.Lower(yes, Grey28, 10).TotalMacs, family.Lower(d.With("arch.s1.residual", 1), Grey28, 10).TotalMacs);
    }

    [Fact]
    public void Too_many_stages_for_a_tiny_input_is_a_workload_error()
    {
        var family = new PlainCnnFamily(new PlainCnnOptions { Stages = 6 });
        var space = new DesignSpace(family.Parameters);
        Assert.Throws<WorkloadException>(() => family.Lower(space.Sample(new Random(0)), new TensorShape(1, 8, 8), 10));
    }

    [Fact]
    public void Bad_options_are_rejected() =>
        Assert.Throws<SpaceException>(() => new PlainCnnFamily(new PlainCnnOptions { Kernels = [4] }));
}
