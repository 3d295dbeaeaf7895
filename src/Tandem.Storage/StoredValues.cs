using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tandem.Core.Studies;

namespace Tandem.Storage;

/// <summary>
/// How the durable backends turn the parts of a trial into columns: maps as JSON objects (keys in
/// the record's order), doubles in System.Text.Json's shortest round-trip form (bit-exact, −0 kept)
/// with NaN and ±∞ as the strings "NaN", "Infinity", "-Infinity", times as ISO 8601 round-trip text
/// ("O", keeps the offset and 100 ns ticks), enums by name. Reading something else is a corrupt store.
/// </summary>
internal static class StoredValues
{
    public const string ProgramName = "tandem";

    /// <summary>Version of the table layout written by this build; a store with a larger one is refused.</summary>
    public const int SchemaVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    public static string ToJson(IReadOnlyDictionary<string, string> map) =>
        JsonSerializer.Serialize(map.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), Json);

    public static string ToJson(IReadOnlyDictionary<string, double> map) =>
        JsonSerializer.Serialize(map.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), Json);

    public static IReadOnlyDictionary<string, string> StringMap(string json, string what) =>
        Parse<Dictionary<string, string>>(json, what);

    public static IReadOnlyDictionary<string, double> NumberMap(string json, string what) =>
        Parse<Dictionary<string, double>>(json, what);

    public static string ToText(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset Time(string text, string what) =>
        DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)
            ? t
            : throw new CorruptRowException($"{what} holds '{text}', not a time");

    public static TEnum Enum<TEnum>(string text, string what) where TEnum : struct, Enum =>
        System.Enum.TryParse<TEnum>(text, ignoreCase: false, out var v) && System.Enum.IsDefined(v)
            ? v
            : throw new CorruptRowException($"{what} holds '{text}', not one of {string.Join(", ", System.Enum.GetNames<TEnum>())}");

    private static T Parse<T>(string json, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) ?? throw new CorruptRowException($"{what} is null");
        }
        catch (JsonException e)
        {
            throw new CorruptRowException($"{what} is not valid JSON: {e.Message}");
        }
    }
}

/// <summary>A stored row that this build cannot read back; the backends add the store's description.</summary>
internal sealed class CorruptRowException(string message) : Exception(message);
