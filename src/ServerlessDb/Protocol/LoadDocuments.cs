using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessDb.Domain;

namespace ServerlessDb.Protocol;

/// <summary>
/// The answers of <c>POST /db/load</c> (rqlite's <c>{"results":[]}</c>, plus what was committed) and of
/// <c>POST /db/load/upload</c> (where to PUT the file, and the load that takes it from there).
/// </summary>
internal static class LoadDocuments
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="format"><c>sqlite</c> or <c>sql</c>: what the body was taken for.</param>
    /// <param name="dumpResult">a dump's last statement's counts, answered as rqlite answers a SQL load (one execute result, zero fields omitted); null for a file.</param>
    public static string Loaded(string format, long bytes, int tables, string version, ExecResult? dumpResult) => Write(json =>
    {
        json.WriteStartArray("results");
        if (dumpResult is { } result)
        {
            json.WriteStartObject();
            if (result.LastInsertId != 0)
            {
                json.WriteNumber("last_insert_id", result.LastInsertId);
            }

            if (result.RowsAffected != 0)
            {
                json.WriteNumber("rows_affected", result.RowsAffected);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject("loaded");
        json.WriteString("format", format);
        json.WriteNumber("bytes", bytes);
        json.WriteNumber("tables", tables);
        json.WriteString("version", version);
        json.WriteEndObject();
    });

    public static string Upload(string database, string id, Uri url, DateTimeOffset expiresAt) => Write(json =>
    {
        json.WriteString("id", id);
        json.WriteString("method", "PUT");
        json.WriteString("url", url.AbsoluteUri);
        json.WriteString("expires", expiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        json.WriteString("load", $"/db/load?db={Uri.EscapeDataString(database)}&staged={id}");
    });

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, Options))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
