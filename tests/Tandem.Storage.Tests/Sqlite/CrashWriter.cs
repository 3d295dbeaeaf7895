using System.Globalization;
using Tandem.Core.Studies;

namespace Tandem.Storage.Tests.Sqlite;

/// <summary>
/// The child process of <see cref="SqliteCrashTests"/>: opens a study file, continues the study
/// "crash" after its last completed trial, and writes trials (Running, then Complete with an artifact
/// and an event) in a loop, printing "saved N" to stdout after each completed final write. It never
/// finishes on its own before its bounded loop ends; the test kills it with SIGKILL.
/// </summary>
internal static class CrashWriter
{
    public const string Argument = "--tandem-crash-writer";
    public const string Study = "crash";
    private const int MaxTrials = 100_000;

    public static int Run(string path)
    {
        var store = StudyStorageFactory.OpenSqlite(path);
        if (store.GetStudyAsync(Study).GetAwaiter().GetResult() is null)
            store.CreateStudyAsync(new StudyRecord
            {
                Name = Study, SpaceSignature = "s", ConfigJson = "{}", ProgramVersion = "test", CreatedAt = DateTimeOffset.UnixEpoch,
            }).GetAwaiter().GetResult();
        // Resume as StudyRunner does: a trial left Running by the previous kill is written again under its number.
        int next = store.GetTrialsAsync(Study).GetAwaiter().GetResult().Count(t => t.State == TrialState.Complete);
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        for (int n = next; n < next + MaxTrials; n++)
        {
            var running = Trial(n, TrialState.Running);
            store.SaveTrialAsync(Study, running).GetAwaiter().GetResult();
            store.SaveArtifactAsync(Study, n, "weights", Payload(n)).GetAwaiter().GetResult();
            store.SaveTrialAsync(Study, Complete(n)).GetAwaiter().GetResult();
            Console.Out.WriteLine("saved " + n.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
        }
        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    public static TrialRecord Trial(int n, TrialState state) => new()
    {
        Number = n,
        DesignKey = "d" + n.ToString(CultureInfo.InvariantCulture),
        Params = new Dictionary<string, string> { ["n"] = n.ToString(CultureInfo.InvariantCulture) },
        State = state,
        StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(n),
    };

    public static TrialRecord Complete(int n) => Trial(n, TrialState.Complete) with
    {
        Metrics = new Dictionary<string, double> { ["accuracy"] = n / 7.0, ["latency_ms"] = n * 0.1 },
        Attributes = new Dictionary<string, string> { ["padding"] = new string('x', 500 + n % 1000) },
        FinishedAt = DateTimeOffset.UnixEpoch.AddSeconds(n + 1),
    };

    /// <summary>A 64 KiB artifact whose bytes are a function of the trial number, so a torn one is detectable.</summary>
    public static byte[] Payload(int n)
    {
        var bytes = new byte[64 * 1024];
        new Random(n).NextBytes(bytes);
        return bytes;
    }
}
