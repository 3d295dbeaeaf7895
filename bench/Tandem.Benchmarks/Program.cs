using BenchmarkDotNet.Running;
using Tandem.Benchmarks;

// `--scalesim-speedup [reference.csv]` times Tandem's model on every SCALE-Sim reference row and
// compares with SCALE-Sim's recorded wall time; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "--scalesim-speedup")
    return ScaleSimSpeedup.Run(args.Length > 1 ? args[1] : null);
BenchmarkSwitcher.FromAssembly(typeof(SystolicBenchmarks).Assembly).Run(args);
return 0;
