using System.Text.RegularExpressions;
using Npgsql;
using Tandem.Core.Studies;
using Tandem.Storage.Postgres;
using Tandem.Storage.Sqlite;

namespace Tandem.Storage;

/// <summary>
/// Opens a study store from the text a user gives (<c>--storage</c>, config <c>storage:</c>). Accepted:
/// <list type="bullet">
/// <item><c>PATH</c> or <c>sqlite:PATH</c> — a SQLite study file, relative to the working folder; the
///   SQLAlchemy forms <c>sqlite:///relative.db</c> and <c>sqlite:////absolute.db</c> work too.</item>
/// <item><c>postgres://user:password@host:port/database?schema=NAME&amp;sslmode=MODE</c> (or
///   <c>postgresql://</c>) — PostgreSQL; user, password, port, database and the query are optional.</item>
/// <item><c>Host=…;Port=…;Database=…;Username=…;Password=…</c> — an Npgsql connection string, with an
///   optional Tandem-only <c>Schema=NAME</c> key.</item>
/// <item><c>memory:</c> — a throw-away in-memory store.</item>
/// </list>
/// Anything else (an unknown <c>scheme:</c>) is a <see cref="StudyStorageException"/> that lists these forms.
/// Messages never contain a password.
/// </summary>
public static partial class StudyStorageFactory
{
    /// <summary>The accepted forms, for help texts and error messages.</summary>
    public const string AcceptedForms =
        "a file path or sqlite:PATH (SQLite), postgres://user:password@host:port/database[?schema=NAME] or postgresql://… " +
        "or an Npgsql connection string Host=…;Port=…;Database=…;Username=…[;Schema=NAME] (PostgreSQL), or memory: (not saved)";

    private static readonly Dictionary<string, string> UrlQueryKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["schema"] = "Tandem's schema in the database",
        ["sslmode"] = "disable, allow, prefer, require, verify-ca, verify-full",
        ["connect_timeout"] = "seconds",
        ["application_name"] = "name shown by the server",
    };

    /// <summary>Opens the store that <paramref name="spec"/> names; relative paths are taken from <paramref name="workingDirectory"/>.</summary>
    public static IStudyStorage Open(string spec, string workingDirectory) => Parse(spec, workingDirectory) switch
    {
        SqliteSpec s => OpenSqlite(s.Path),
        PostgresSpec p => OpenPostgres(p.ConnectionString, new PostgresStudyStorageOptions { Schema = p.Schema }),
        MemorySpec => new InMemoryStudyStorage(),
        var other => throw new InvalidOperationException($"unhandled storage kind {other}"),
    };

    /// <summary>
    /// The full path of the SQLite file <paramref name="spec"/> names, or null for a server or in-memory
    /// store: commands that only read (show, resume) check it exists instead of creating an empty file.
    /// </summary>
    public static string? SqlitePath(string spec, string workingDirectory) =>
        Parse(spec, workingDirectory) is SqliteSpec s ? s.Path : null;

    /// <summary>Opens (creating if missing) a SQLite study file.</summary>
    public static IStudyStorage OpenSqlite(string path, SqliteStudyStorageOptions? options = null) => SqliteStudyStorage.Open(path, options);

    /// <summary>Opens a PostgreSQL study store from an Npgsql connection string (key=value form).</summary>
    public static IStudyStorage OpenPostgres(string connectionString, PostgresStudyStorageOptions? options = null) =>
        PostgresStudyStorage.Open(connectionString, options);

    /// <summary>Where <paramref name="spec"/> points, for messages: the full file path or the server, never a password.</summary>
    public static string Describe(string spec, string workingDirectory) => Parse(spec, workingDirectory) switch
    {
        SqliteSpec s => $"study file '{s.Path}'",
        PostgresSpec p => $"{PostgresStudyStorage.ServerDescription(new NpgsqlConnectionStringBuilder(p.ConnectionString))} (schema '{p.Schema}')",
        _ => "in-memory store",
    };

    internal abstract record StorageSpec;
    internal sealed record SqliteSpec(string Path) : StorageSpec;
    internal sealed record PostgresSpec(string ConnectionString, string Schema) : StorageSpec;
    internal sealed record MemorySpec : StorageSpec;

    internal static StorageSpec Parse(string spec, string workingDirectory)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new StudyStorageException($"the storage is empty; give {AcceptedForms}");
        string text = spec.Trim();
        if (text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return ParsePostgresUrl(text);
        if (ConnectionStringStart().IsMatch(text))
            return ParseConnectionString(text);
        if (text.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            string path = text["sqlite:".Length..];
            if (path.StartsWith("///", StringComparison.Ordinal)) path = path[3..];
            if (path.Length == 0) throw new StudyStorageException($"'{spec}' names no file; write sqlite:PATH, e.g. sqlite:runs/studies.db");
            return new SqliteSpec(Path.GetFullPath(path, workingDirectory));
        }
        if (text.Equals("memory:", StringComparison.OrdinalIgnoreCase))
            return new MemorySpec();
        if (Scheme().Match(text) is { Success: true } m)
            throw new StudyStorageException(
                $"the storage '{Redact(text)}' starts with the unknown scheme '{m.Groups[1].Value}:'; give {AcceptedForms} " +
                "(for a file whose name contains ':', write sqlite:PATH or ./PATH)");
        return new SqliteSpec(Path.GetFullPath(text, workingDirectory));
    }

    private static PostgresSpec ParsePostgresUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw new StudyStorageException($"'{Redact(url)}' is not a PostgreSQL URL; write postgres://user:password@host:port/database");
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0) b.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':');
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Contains('/'))
            throw new StudyStorageException($"'{Redact(url)}' names the database '{database}'; a database name cannot contain '/'");
        // libpq's rule: no database given means the one named like the user.
        b.Database = database.Length > 0 ? database : b.Username ?? "postgres";
        string schema = PostgresStudyStorageOptions.DefaultSchema;
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            string value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key.ToLowerInvariant())
            {
                case "schema": schema = value; break;
                case "sslmode":
                    b.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable, "allow" => SslMode.Allow, "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require, "verify-ca" => SslMode.VerifyCA, "verify-full" => SslMode.VerifyFull,
                        _ => throw new StudyStorageException($"sslmode '{value}' in the PostgreSQL URL is not one of {UrlQueryKeys["sslmode"]}"),
                    };
                    break;
                case "connect_timeout":
                    b.Timeout = int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int seconds) && seconds > 0
                        ? seconds
                        : throw new StudyStorageException($"connect_timeout '{value}' in the PostgreSQL URL is not a positive number of seconds");
                    break;
                case "application_name": b.ApplicationName = value; break;
                default:
                    throw new StudyStorageException(
                        $"the PostgreSQL URL has the unknown option '{key}'; accepted: {string.Join(", ", UrlQueryKeys.Select(kv => $"{kv.Key} ({kv.Value})"))}");
            }
        }
        return new PostgresSpec(b.ConnectionString, schema);
    }

    private static PostgresSpec ParseConnectionString(string text)
    {
        var generic = new System.Data.Common.DbConnectionStringBuilder();
        try { generic.ConnectionString = text; }
        catch (ArgumentException e) { throw new StudyStorageException($"the PostgreSQL connection string is not valid: {e.Message}", e); }
        string schema = PostgresStudyStorageOptions.DefaultSchema;
        if (generic.TryGetValue("schema", out object? value))
        {
            schema = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? schema;
            generic.Remove("schema");
        }
        try
        {
            // Validates every keyword now, so a typo is reported before anything connects.
            return new PostgresSpec(new NpgsqlConnectionStringBuilder(generic.ConnectionString).ConnectionString, schema);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new StudyStorageException($"the PostgreSQL connection string is not valid: {e.Message}", e);
        }
    }

    /// <summary>The spec with any password in a URL or connection string replaced by ***.</summary>
    internal static string Redact(string spec)
    {
        string s = UrlPassword().Replace(spec, "$1***@");
        return KeyValuePassword().Replace(s, "$1***");
    }

    [GeneratedRegex(@"^\s*(host|server)\s*=|;\s*(host|server)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringStart();

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.\-]+):")]
    private static partial Regex Scheme();

    [GeneratedRegex(@"(://[^:/@]*:)[^@]*@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"((?:password|pwd)\s*=\s*)[^;]*", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValuePassword();
}
