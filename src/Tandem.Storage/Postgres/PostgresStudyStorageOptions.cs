namespace Tandem.Storage.Postgres;

/// <summary>
/// Options of the PostgreSQL study store. <see cref="Schema"/> is the PostgreSQL schema that holds
/// Tandem's tables (created when missing); it must be a plain lower-case identifier
/// (<c>[a-z_][a-z0-9_]*</c>, at most 63 characters) so that it means the same quoted or not. Several
/// independent Tandem stores can share one database under different schemas.
/// </summary>
public sealed record PostgresStudyStorageOptions
{
    public const string DefaultSchema = "tandem";

    public string Schema { get; init; } = DefaultSchema;
}
