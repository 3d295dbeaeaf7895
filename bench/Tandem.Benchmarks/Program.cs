using BenchmarkDotNet.Running;
using Tandem.Benchmarks;

// `--scalesim-speedup [reference.csv] [--per-row out.csv]` times Tandem's model on every SCALE-Sim
// reference row and compares with SCALE-Sim's recorded wall time (optionally writing each row's
// times); `--cpu-throughput` times the benchmark workloads by
// process CPU time; `--layer H W C R S STRIDE N ROWS DATAFLOW [SECONDS]` times one layer's ifmap DRAM
// count; `--compare-builds reference.csv DIR DIR [...] [--slices N] [--per-row out.csv]` times several
// build outputs of this project on every reference row in one process, alternating between them, and
// `--compare-layers DIR DIR [...] --layer "H W C R S STRIDE N ROWS DATAFLOW" [...] [--seconds S]` on single layers;
// anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "--scalesim-speedup")
    return ScaleSimSpeedup.Run(args.Length > 1 ? args[1] : null, args.Length > 3 && args[2] == "--per-row" ? args[3] : null);
if (args.Length > 1 && args[0] == "--profile-rows")
    return Profile.RunRows(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 30, args.Length > 3 ? args[3] : null);
if (args.Length > 0 && args[0] == "--profile")
    return Profile.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
if (args.Length > 0 && args[0] == "--compare-builds")
    return CompareBuilds.Run(args[1..]);
if (args.Length > 0 && args[0] == "--compare-layers")
    return CompareBuilds.RunLayers(args[1..]);
if (args.Length > 0 && args[0] == "--layer")
    return Profile.RunLayer(args[1..]);
if (args.Length > 0 && args[0] == "--cpu-throughput")
    return CpuThroughput.Run();
BenchmarkSwitcher.FromAssembly(typeof(SystolicBenchmarks).Assembly).Run(args);
return 0;
