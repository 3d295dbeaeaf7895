using System.Diagnostics;
using System.Globalization;
using Tandem.Core.Studies;
using Tandem.Testing;

namespace Tandem.Storage.Tests.Sqlite;

/// <summary>
/// Kill -9 in the middle of writing: a child process (this test executable, see <see cref="CrashWriter"/>)
/// writes trials and reports each completed write; the test kills it with SIGKILL and reopens the
/// file. Every reported trial must be there, complete and intact; at most the one trial being written
/// may be Running; nothing may be half-written. Repeated so the kill lands at different points.
/// </summary>
public sealed class SqliteCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_reported_write_survives_sigkill_and_nothing_is_half_written()
    {
        using var dir = new TempDirectory("tandem-crash");
        string path = dir.File("crash.db");
        int reported = -1;
        int[] killAfter = [5, 13, 1, 29, 8];
        for (int round = 0; round < killAfter.Length; round++)
        {
            int lastSeen = await RunChildAndKillAsync(path, reported + 1 + killAfter[round]);
            Assert.True(lastSeen > reported, $"round {round}: the child reported nothing new");
            reported = lastSeen;

            await using var store = StudyStorageFactory.OpenSqlite(path);
            var trials = await store.GetTrialsAsync(CrashWriter.Study, Ct);
            Assert.Equal(Enumerable.Range(0, trials.Count), trials.Select(t => t.Number));
            Assert.True(trials.Count >= reported + 1, $"round {round}: trial {reported} was reported saved but only {trials.Count} trials are stored");
            // The child is killed at most one trial after its last report.
            Assert.True(trials.Count <= reported + 2, $"round {round}: {trials.Count} trials stored but only {reported} reported");
            foreach (var t in trials)
            {
                bool finished = t.Number <= reported || t.State == TrialState.Complete;
                var expected = finished ? CrashWriter.Complete(t.Number) : CrashWriter.Trial(t.Number, TrialState.Running);
                Contract.StoredRecords.Equal(expected, t);
            }
            foreach (var artifact in await store.ListArtifactsAsync(CrashWriter.Study, Ct))
                Assert.Equal(CrashWriter.Payload(artifact.Trial), await store.GetArtifactAsync(CrashWriter.Study, artifact.Trial, artifact.Name, Ct));
            Assert.All(trials.Where(t => t.Number <= reported), t => Assert.NotNull(store.GetArtifactAsync(CrashWriter.Study, t.Number, "weights", Ct).Result));
        }
    }

    /// <summary>Starts the writer, kills it (SIGKILL) once it reported trial <paramref name="killAt"/>, and returns the last trial it reported.</summary>
    private static async Task<int> RunChildAndKillAsync(string path, int killAt)
    {
        string exe = Path.Combine(AppContext.BaseDirectory, "Tandem.Storage.Tests");
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CrashWriter.Argument);
        start.ArgumentList.Add(path);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {exe}");
        var errors = child.StandardError.ReadToEndAsync();
        int last = -1;
        // A bound on waiting, so a broken child fails the test instead of hanging it; not a timing assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            while (await child.StandardOutput.ReadLineAsync(guard.Token) is { } line)
            {
                if (!line.StartsWith("saved ", StringComparison.Ordinal)) continue;
                last = int.Parse(line["saved ".Length..], CultureInfo.InvariantCulture);
                if (last >= killAt)
                {
                    child.Kill(); // SIGKILL on Linux: no handler, no flush, no cleanup in the child.
                    break;
                }
            }
            // Lines the child printed before it died still count: each was printed after its write completed.
            while (await child.StandardOutput.ReadLineAsync(guard.Token) is { } line)
                if (line.StartsWith("saved ", StringComparison.Ordinal)) last = int.Parse(line["saved ".Length..], CultureInfo.InvariantCulture);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
            await child.WaitForExitAsync(CancellationToken.None);
        }
        Assert.True(last >= killAt, $"the writer stopped at {last} before being killed: {await errors}");
        return last;
    }
}
