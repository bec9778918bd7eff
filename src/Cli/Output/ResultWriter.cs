using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cli.Output;

/// <summary>Prints rows as sqlite3 does in its modes: an aligned table with borders, CSV with a header, a JSON array of objects, or one <c>name = value</c> line per column.</summary>
internal static class ResultWriter
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void WriteRows(QueryResult result, OutputMode mode, TextWriter output)
    {
        var columns = result.Columns ?? [];
        switch (mode)
        {
            case OutputMode.Table:
                WriteTable(columns, result.Rows.Select(row => row.Select((v, i) => Text(v, TypeOf(result, i))).ToList()).ToList(), output);
                break;
            case OutputMode.Csv:
                output.WriteLine(string.Join(',', columns.Select(Csv)));
                foreach (var row in result.Rows)
                {
                    output.WriteLine(string.Join(',', row.Select((v, i) => v.ValueKind == JsonValueKind.Null ? "" : Csv(Text(v, TypeOf(result, i))))));
                }

                break;
            case OutputMode.Json:
                output.WriteLine(JsonRows(columns, result.Rows));
                break;
            case OutputMode.Line:
                var width = columns.Count == 0 ? 0 : columns.Max(c => c.Length);
                for (var r = 0; r < result.Rows.Count; r++)
                {
                    if (r > 0)
                    {
                        output.WriteLine();
                    }

                    for (var i = 0; i < columns.Count; i++)
                    {
                        output.WriteLine($"{columns[i].PadLeft(width)} = {Text(result.Rows[r][i], TypeOf(result, i))}");
                    }
                }

                break;
        }
    }

    /// <summary>An aligned table with borders (rqlite's shell and sqlite3's <c>.mode table</c>); a table with no rows still shows its header.</summary>
    public static void WriteTable(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows, TextWriter output)
    {
        if (columns.Count == 0)
        {
            return;
        }

        var widths = columns.Select((c, i) => Math.Max(Width(c), rows.Count == 0 ? 0 : rows.Max(r => Width(r[i])))).ToArray();
        var border = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        output.WriteLine(border);
        output.WriteLine(Line(columns));
        output.WriteLine(border);
        foreach (var row in rows)
        {
            output.WriteLine(Line(row));
        }

        output.WriteLine(border);

        string Line(IReadOnlyList<string> cells) =>
            "|" + string.Join("|", cells.Select((cell, i) => " " + cell + new string(' ', widths[i] - Width(cell)) + " ")) + "|";
    }

    /// <summary>A value as text: NULL as empty (sqlite3's default), a BLOB (base64 on the wire) as an SQL hex literal.</summary>
    public static string Text(JsonElement value, string? type) => value.ValueKind switch
    {
        JsonValueKind.Null => "",
        JsonValueKind.String when string.Equals(type, "blob", StringComparison.OrdinalIgnoreCase) => Blob(value.GetString()!),
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    public static string JsonRows(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<JsonElement>> rows)
    {
        var text = new StringBuilder("[");
        for (var r = 0; r < rows.Count; r++)
        {
            text.Append(r == 0 ? "" : ",\n").Append('{');
            for (var i = 0; i < columns.Count; i++)
            {
                text.Append(i == 0 ? "" : ",").Append(JsonSerializer.Serialize(columns[i], Json)).Append(':').Append(rows[r][i].GetRawText());
            }

            text.Append('}');
        }

        return text.Append(']').ToString();
    }

    private static string? TypeOf(QueryResult result, int index) => result.Types is { } types && index < types.Count ? types[index] : null;

    private static string Blob(string base64)
    {
        try
        {
            return "X'" + Convert.ToHexString(Convert.FromBase64String(base64)) + "'";
        }
        catch (FormatException)
        {
            return base64;
        }
    }

    private static string Csv(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;

    // Text elements, so an accented or wide character counts once; East Asian wide characters count twice.
    private static int Width(string text)
    {
        var width = 0;
        var elements = StringInfo.GetTextElementEnumerator(text);
        while (elements.MoveNext())
        {
            var rune = Rune.GetRuneAt((string)elements.Current, 0);
            width += rune.Value is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x1F300 and <= 0x1FAFF or >= 0x20000 and <= 0x3FFFD ? 2 : 1;
        }

        return width;
    }
}
