using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Writes results exactly as rqlite does (command/encoding/json.go): zero fields and empty slices
/// omitted, <c>values</c> absent when there are no rows, BLOBs as base64, associative rows as
/// objects, on /db/request an associative execute result carries <c>"rows": null</c>, and numbers
/// (<c>time</c>, REAL values) as Go writes a float64 (<see cref="GoJsonNumber"/>).
/// </summary>
internal static class ResultsJsonWriter
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true, IndentSize = 4 };

    /// <exception cref="PayloadTooLargeException">the JSON would be larger than <paramref name="maxBytes"/>.</exception>
    public static string Write(IReadOnlyList<StatementResult> results, ResponseFormat format, double? totalSeconds, int maxBytes)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, format.Pretty ? Indented : Compact))
        {
            json.WriteStartObject();
            json.WriteStartArray("results");
            foreach (var result in results)
            {
                WriteResult(json, result, format);
                if (json.BytesPending + buffer.WrittenCount > maxBytes)
                {
                    throw new PayloadTooLargeException(RequestMessages.ResultTooLarge(maxBytes));
                }
            }

            json.WriteEndArray();
            if (format.Timings && totalSeconds is { } seconds)
            {
                WriteSeconds(json, seconds);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenCount <= maxBytes
            ? Encoding.UTF8.GetString(buffer.WrittenSpan)
            : throw new PayloadTooLargeException(RequestMessages.ResultTooLarge(maxBytes));
    }

    private static void WriteResult(Utf8JsonWriter json, StatementResult result, ResponseFormat format)
    {
        json.WriteStartObject();
        switch (result)
        {
            case ErrorResult error:
                json.WriteString("error", error.Error);
                break;
            case ExecResult exec:
                if (exec.LastInsertId != 0)
                {
                    json.WriteNumber("last_insert_id", exec.LastInsertId);
                }

                if (exec.RowsAffected != 0)
                {
                    json.WriteNumber("rows_affected", exec.RowsAffected);
                }

                WriteTime(json, result, format);
                if (format.Associative && format.Unified)
                {
                    json.WriteNull("rows");
                }

                break;
            case RowsResult rows when format.Associative:
                WriteAssociativeRows(json, rows);
                WriteTime(json, result, format);
                break;
            case RowsResult rows:
                WriteRows(json, rows);
                WriteTime(json, result, format);
                break;
        }

        json.WriteEndObject();
    }

    private static void WriteRows(Utf8JsonWriter json, RowsResult rows)
    {
        if (rows.Columns.Count > 0)
        {
            json.WriteStartArray("columns");
            foreach (var column in rows.Columns)
            {
                json.WriteStringValue(column);
            }

            json.WriteEndArray();
            json.WriteStartArray("types");
            foreach (var type in rows.Types)
            {
                json.WriteStringValue(type);
            }

            json.WriteEndArray();
        }

        if (rows.Rows.Count > 0)
        {
            json.WriteStartArray("values");
            foreach (var row in rows.Rows)
            {
                json.WriteStartArray();
                foreach (var value in row)
                {
                    WriteValue(json, value);
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
        }
    }

    private static void WriteAssociativeRows(Utf8JsonWriter json, RowsResult rows)
    {
        if (rows.Columns.Count > 0)
        {
            json.WriteStartObject("types");
            for (var i = 0; i < rows.Columns.Count; i++)
            {
                json.WriteString(rows.Columns[i], rows.Types[i]);
            }

            json.WriteEndObject();
        }

        json.WriteStartArray("rows");
        foreach (var row in rows.Rows)
        {
            json.WriteStartObject();
            for (var i = 0; i < rows.Columns.Count; i++)
            {
                json.WritePropertyName(rows.Columns[i]);
                WriteValue(json, row[i]);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteTime(Utf8JsonWriter json, StatementResult result, ResponseFormat format)
    {
        if (format.Timings && result.Seconds != 0)
        {
            WriteSeconds(json, result.Seconds);
        }
    }

    private static void WriteSeconds(Utf8JsonWriter json, double seconds)
    {
        json.WritePropertyName("time");
        json.WriteRawValue(GoJsonNumber.Format(seconds), skipInputValidation: true);
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNullValue();
                break;
            case long integer:
                json.WriteNumberValue(integer);
                break;
            case double real when double.IsFinite(real):
                json.WriteRawValue(GoJsonNumber.Format(real), skipInputValidation: true);
                break;
            case double real when double.IsNaN(real):
                json.WriteNullValue();
                break;
            case double real:
                // JSON has no infinity; SQLite's own JSON functions write it as 9e999.
                json.WriteRawValue(real > 0 ? "9e999" : "-9e999", skipInputValidation: true);
                break;
            case string text:
                json.WriteStringValue(text);
                break;
            case byte[] blob:
                json.WriteBase64StringValue(blob);
                break;
            case bool flag:
                json.WriteBooleanValue(flag);
                break;
            default:
                throw new ArgumentException($"unexpected result value of type {value.GetType().Name}", nameof(value));
        }
    }
}
