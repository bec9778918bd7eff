using System.Security.Cryptography;
using System.Text.Json;
using ServerlessDb.Errors;

namespace ServerlessDb.Engine;

/// <summary>
/// The answers of idempotent writes, kept inside the database file itself, in the table
/// <see cref="Table"/>: a record is uploaded in the same commit as the write it describes, so no crash
/// can separate the two, and a retry from any container finds it in the version it reads. Records
/// older than the retention window are ignored and deleted by the next idempotent write.
/// </summary>
internal static class IdempotencyRecords
{
    /// <summary>The table's name; the sandbox keeps user SQL from changing it (or anything with this prefix).</summary>
    public const string Table = ReservedPrefix + "idempotency";

    /// <summary>Names the service keeps for itself in every database.</summary>
    public const string ReservedPrefix = "_serverlessdb_";

    private const string CreateTable =
        "CREATE TABLE IF NOT EXISTS " + Table + " (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, answer TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID";

    private const string CreateIndex =
        "CREATE INDEX IF NOT EXISTS " + Table + "_created_at ON " + Table + " (created_at)";

    /// <summary>
    /// The recorded answer of <paramref name="write"/>'s key, or null when the key is new (or its record expired).
    /// </summary>
    /// <exception cref="IdempotencyKeyReusedException">the key was recorded for a different request.</exception>
    public static string? Find(SqliteSession session, QueryRequest request, IdempotentWrite write, DateTimeOffset now, TimeSpan retention)
    {
        if (!session.TableExists(Table))
        {
            return null;
        }

        var record = session.QueryRow(
            $"SELECT fingerprint, answer FROM {Table} WHERE key = $key AND created_at >= $oldest",
            ("$key", write.Key),
            ("$oldest", Oldest(now, retention)));
        if (record is not [string fingerprint, string answer])
        {
            return null;
        }

        return fingerprint == Fingerprint(request)
            ? answer
            : throw new IdempotencyKeyReusedException(
                $"Idempotency-Key '{write.Key}' was already used for a different request on database '{request.Flags.Database}' " +
                $"within the last {retention.TotalHours:0.#} h; send a new key for a new request.");
    }

    /// <summary>Records <paramref name="answer"/> for <paramref name="write"/>'s key and deletes expired records.</summary>
    public static void Add(SqliteSession session, QueryRequest request, IdempotentWrite write, string answer, DateTimeOffset now, TimeSpan retention)
    {
        session.Control(CreateTable);
        session.Control(CreateIndex);
        session.Execute($"DELETE FROM {Table} WHERE created_at < $oldest", ("$oldest", Oldest(now, retention)));
        session.Execute(
            $"INSERT OR REPLACE INTO {Table} (key, fingerprint, answer, created_at) VALUES ($key, $fingerprint, $answer, $now)",
            ("$key", write.Key),
            ("$fingerprint", Fingerprint(request)),
            ("$answer", answer),
            ("$now", now.ToUnixTimeSeconds()));
    }

    /// <summary>What makes two requests the same: route, transaction flag, and every statement with its parameters.</summary>
    public static string Fingerprint(QueryRequest request)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            json.WriteStringValue(request.Kind.ToString());
            json.WriteBooleanValue(request.Flags.Transaction);
            foreach (var statement in request.Statements)
            {
                json.WriteStartArray();
                json.WriteStringValue(statement.Sql);
                foreach (var value in statement.Positional)
                {
                    WriteValue(json, value);
                }

                json.WriteStartObject();
                foreach (var (name, value) in statement.Named.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WritePropertyName(name);
                    WriteValue(json, value);
                }

                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
    }

    private static long Oldest(DateTimeOffset now, TimeSpan retention) => (now - retention).ToUnixTimeSeconds();

    // Typed, so that 1 and "1" and 1.0 are different requests.
    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        json.WriteStartArray();
        switch (value)
        {
            case null:
                json.WriteStringValue("null");
                break;
            case long integer:
                json.WriteStringValue("integer");
                json.WriteNumberValue(integer);
                break;
            case double real:
                json.WriteStringValue("real");
                json.WriteStringValue(BitConverter.DoubleToInt64Bits(real).ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
                break;
            case bool flag:
                json.WriteStringValue("bool");
                json.WriteBooleanValue(flag);
                break;
            case string text:
                json.WriteStringValue("text");
                json.WriteStringValue(text);
                break;
            case byte[] blob:
                json.WriteStringValue("blob");
                json.WriteBase64StringValue(blob);
                break;
            default:
                throw new ArgumentException($"unexpected parameter value of type {value.GetType().Name}", nameof(value));
        }

        json.WriteEndArray();
    }
}
