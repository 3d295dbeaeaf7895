using System.Collections.Immutable;

namespace Tandem.Core.Workloads;

/// <summary>
/// The ordered layers of one network (a DAG: each layer reads earlier layers or the network input),
/// with the input shape of one sample. This is what every cost model consumes and what the Torch
/// side turns into a trainable module. Construction validates every layer and every edge: producer
/// indices point backwards, and a layer's declared input shape equals its producers' output shape.
/// </summary>
public sealed class Workload
{
    public string Name { get; }
    public TensorShape Input { get; }
    public ImmutableArray<Layer> Layers { get; }

    public Workload(string name, TensorShape input, IEnumerable<Layer> layers)
    {
        Name = name;
        Input = input;
        Layers = layers.ToImmutableArray();
        Validate();
    }

    public long TotalMacs => Layers.Sum(l => l.Macs);
    public long TotalParameters => Layers.Sum(l => l.Parameters);
    public long TotalOtherOperations => Layers.Sum(l => l.OtherOperations);

    /// <summary>Shape of the network output (the last layer's output).</summary>
    public TensorShape Output => Layers.Length == 0 ? Input : Layers[^1].Output;

    /// <summary>Producer indices of layer <paramref name="index"/>, with the "previous layer" default resolved.</summary>
    public IReadOnlyList<int> ProducersOf(int index)
    {
        var layer = Layers[index];
        if (layer.Inputs.Count > 0) return layer.Inputs;
        return [index - 1]; // index 0 → -1 = network input
    }

    /// <summary>Only the layers that carry MACs (convolutions, dense layers, GEMMs).</summary>
    public IEnumerable<Layer> ComputeLayers => Layers.Where(l => l.Macs > 0);

    private void Validate()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Layers.Length; i++)
        {
            var layer = Layers[i];
            if (string.IsNullOrWhiteSpace(layer.Name)) throw new WorkloadException($"{Name}: layer {i} has no name");
            if (!names.Add(layer.Name)) throw new WorkloadException($"{Name}: layer name '{layer.Name}' is used twice");
            layer.Validate();
            foreach (int p in ProducersOf(i))
            {
                if (p < Layer.NetworkInput || p >= i)
                    throw new WorkloadException($"{Name}: layer '{layer.Name}' reads layer {p}, which is not an earlier layer");
                var produced = p == Layer.NetworkInput ? Input : Layers[p].Output;
                // Dense layers flatten, so only the element count must agree.
                bool ok = layer is DenseLayer ? produced.Elements == layer.Input.Elements : produced == layer.Input;
                if (!ok)
                    throw new WorkloadException(
                        $"{Name}: layer '{layer.Name}' expects input {layer.Input} but its producer gives {produced}");
            }
        }
    }

    public override string ToString() => $"{Name}: {Layers.Length} layers, {TotalMacs:N0} MACs, {TotalParameters:N0} parameters";
}
