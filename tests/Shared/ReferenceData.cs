namespace Tandem.Testing;

/// <summary>
/// Locates the outside reference data (<c>../shared/reference</c> beside the repository).
/// A test that needs it calls <see cref="Require"/>: when the folder is missing the test fails under
/// CI (<c>CI=true</c>) and is skipped with a visible reason elsewhere, since a user's clone has no
/// <c>../shared</c>. <c>TANDEM_REFERENCE_DIR</c> overrides the location.
/// </summary>
public static class ReferenceData
{
    // Static initialisers run in text order: the repository root must be known before Locate().
    /// <summary>The repository root (the folder holding Tandem.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string? Root { get; } = Locate();

    /// <summary>Full path of a file or folder under the reference root, or skip/fail as described.</summary>
    public static string Require(string relativePath)
    {
        string reason;
        if (Root is null)
            reason = "reference data not found (expected ../shared/reference beside the repository, or TANDEM_REFERENCE_DIR)";
        else
        {
            string full = Path.Combine(Root, relativePath);
            if (File.Exists(full) || Directory.Exists(full)) return full;
            reason = $"reference file {full} is missing";
        }
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(reason + " (CI=true requires it)");
        Assert.Skip(reason);
        return ""; // unreachable: Assert.Skip throws
    }


    private static string? Locate()
    {
        string? env = Environment.GetEnvironmentVariable("TANDEM_REFERENCE_DIR");
        if (!string.IsNullOrEmpty(env)) return Directory.Exists(env) ? Path.GetFullPath(env) : null;
        string candidate = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "reference"));
        return Directory.Exists(candidate) ? candidate : null;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Tandem.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException(
            $"Tandem.slnx not found above {AppContext.BaseDirectory}; tests must run from a build inside the repository.");
    }
}
