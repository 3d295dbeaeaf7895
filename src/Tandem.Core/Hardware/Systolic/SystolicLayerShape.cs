using Tandem.Core.Workloads;

namespace Tandem.Core.Hardware.Systolic;

/// <summary>
/// One convolution exactly as SCALE-Sim v2 sees it: an ifmap of <see cref="IfmapHeight"/> ×
/// <see cref="IfmapWidth"/> × <see cref="Channels"/> words stored row-major with channels innermost
/// (no padding: any padding is already part of the ifmap), <see cref="Filters"/> filters of
/// <see cref="FilterHeight"/> × <see cref="FilterWidth"/> × <see cref="Channels"/>, strides, and the
/// ofmap size. The equivalent GEMM has M = ofmap pixels, K = R·S·C and N = filters. Ofmap positions
/// whose window runs past the ifmap (SCALE-Sim's round-up output rule) read nothing there.
/// </summary>
public readonly record struct SystolicLayerShape(
    int IfmapHeight, int IfmapWidth, int FilterHeight, int FilterWidth, int Channels, int Filters,
    int StrideHeight, int StrideWidth, int OfmapHeight, int OfmapWidth)
{
    /// <summary>GEMM rows: ofmap pixels per filter.</summary>
    public long M => (long)OfmapHeight * OfmapWidth;
    /// <summary>GEMM inner dimension: the convolution window R·S·C.</summary>
    public long K => (long)FilterHeight * FilterWidth * Channels;
    /// <summary>GEMM columns: filters.</summary>
    public long N => Filters;
    /// <summary>Multiply-accumulates of the layer (what SCALE-Sim counts as compute).</summary>
    public long Macs => M * N * K;
    /// <summary>Words of the ifmap address space (H·W·C).</summary>
    public long IfmapWords => (long)IfmapHeight * IfmapWidth * Channels;

    /// <summary>
    /// SCALE-Sim's reading of one topology row: no padding and ofmap size ⌈(H − R + stride) / stride⌉.
    /// Throws <see cref="InputException"/> when a size is not positive or the filter exceeds the ifmap.
    /// </summary>
    public static SystolicLayerShape FromScaleSim(int ifmapHeight, int ifmapWidth, int filterHeight, int filterWidth,
        int channels, int filters, int strideHeight, int strideWidth)
    {
        var shape = new SystolicLayerShape(ifmapHeight, ifmapWidth, filterHeight, filterWidth, channels, filters,
            strideHeight, strideWidth,
            CeilOut(ifmapHeight, filterHeight, strideHeight), CeilOut(ifmapWidth, filterWidth, strideWidth));
        shape.Validate();
        return shape;
    }

    /// <summary>A GEMM (M × K)·(K × N) as SCALE-Sim runs it: ifmap M × K, one channel, a 1 × K filter, N filters.</summary>
    public static SystolicLayerShape FromGemm(long m, long n, long k)
    {
        if (m < 1 || n < 1 || k < 1 || m > int.MaxValue || n > int.MaxValue || k > int.MaxValue)
            throw new InputException($"GEMM sizes M={m}, N={n}, K={k} must each be between 1 and {int.MaxValue}");
        return FromScaleSim((int)m, (int)k, 1, (int)k, 1, (int)n, 1, 1);
    }

    /// <summary>
    /// One group of a convolution of the layer IR. Padding becomes stored zero rows and columns of the
    /// ifmap; the ofmap size is the layer's own (floor or ceil rule); a grouped convolution maps to
    /// one group of C/g channels and N/g filters, which the caller runs g times.
    /// </summary>
    public static SystolicLayerShape FromConv(Conv2dLayer conv) => new(
        conv.Input.Height + 2 * conv.PadHeight, conv.Input.Width + 2 * conv.PadWidth,
        conv.KernelHeight, conv.KernelWidth, conv.InChannels / conv.Groups, conv.OutChannels / conv.Groups,
        conv.StrideHeight, conv.StrideWidth, conv.OutputHeight, conv.OutputWidth);

    public void Validate()
    {
        if (IfmapHeight < 1 || IfmapWidth < 1) throw new InputException($"ifmap {IfmapHeight}x{IfmapWidth} must be at least 1x1");
        if (FilterHeight < 1 || FilterWidth < 1) throw new InputException($"filter {FilterHeight}x{FilterWidth} must be at least 1x1");
        if (Channels < 1) throw new InputException($"channels must be ≥ 1 (got {Channels})");
        if (Filters < 1) throw new InputException($"number of filters must be ≥ 1 (got {Filters})");
        if (StrideHeight < 1 || StrideWidth < 1) throw new InputException($"stride must be ≥ 1 (got {StrideHeight}x{StrideWidth})");
        if (FilterHeight > IfmapHeight || FilterWidth > IfmapWidth)
            throw new InputException($"filter {FilterHeight}x{FilterWidth} exceeds the ifmap {IfmapHeight}x{IfmapWidth}");
        if (OfmapHeight < 1 || OfmapWidth < 1) throw new InputException($"ofmap {OfmapHeight}x{OfmapWidth} must be at least 1x1");
        if (IfmapWords > int.MaxValue) throw new InputException($"ifmap of {IfmapWords} words is larger than the model supports ({int.MaxValue})");
    }

    private static int CeilOut(int input, int kernel, int stride) =>
        stride < 1 || kernel > input ? 0 : (input - kernel + stride + stride - 1) / stride;
}

/// <summary>
/// SCALE-Sim v2's per-layer figures for one layer on one array: the COMPUTE_REPORT (cycles, stalls,
/// utilisation and mapping efficiency in percent), the DETAILED_ACCESS_REPORT counts (in words) and
/// start/stop cycles (in cycles; DRAM prefetches of the first fill start before cycle 0, so DRAM start
/// cycles may be negative), and the fold count. Average bandwidths are in words per cycle.
/// </summary>
public readonly record struct SystolicLayerResult
{
    public long TotalCycles { get; init; }
    public long StallCycles { get; init; }
    public double OverallUtilPct { get; init; }
    public double MappingEfficiencyPct { get; init; }
    public double ComputeUtilPct { get; init; }
    public long Macs { get; init; }
    public long Folds { get; init; }
    public long SramIfmapReads { get; init; }
    public long SramFilterReads { get; init; }
    public long SramOfmapWrites { get; init; }
    public long DramIfmapReads { get; init; }
    public long DramFilterReads { get; init; }
    public long DramOfmapWrites { get; init; }
    public long SramIfmapStartCycle { get; init; }
    public long SramIfmapStopCycle { get; init; }
    public long SramFilterStartCycle { get; init; }
    public long SramFilterStopCycle { get; init; }
    public long SramOfmapStartCycle { get; init; }
    public long SramOfmapStopCycle { get; init; }
    public long DramIfmapStartCycle { get; init; }
    public long DramIfmapStopCycle { get; init; }
    public long DramFilterStartCycle { get; init; }
    public long DramFilterStopCycle { get; init; }
    public long DramOfmapStartCycle { get; init; }
    public long DramOfmapStopCycle { get; init; }

    public double AvgIfmapSramBandwidth => TotalCycles > 0 ? (double)SramIfmapReads / TotalCycles : 0;
    public double AvgFilterSramBandwidth => TotalCycles > 0 ? (double)SramFilterReads / TotalCycles : 0;
    public double AvgOfmapSramBandwidth => TotalCycles > 0 ? (double)SramOfmapWrites / TotalCycles : 0;
    public double AvgIfmapDramBandwidth => DramIfmapReads > 0 ? (double)DramIfmapReads / (DramIfmapStopCycle - DramIfmapStartCycle + 1) : 0;
    public double AvgFilterDramBandwidth => DramFilterReads > 0 ? (double)DramFilterReads / (DramFilterStopCycle - DramFilterStartCycle + 1) : 0;
    public double AvgOfmapDramBandwidth => DramOfmapWrites > 0 ? (double)DramOfmapWrites / (DramOfmapStopCycle - DramOfmapStartCycle + 1) : 0;
}
