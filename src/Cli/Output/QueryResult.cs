using System.Text.Json;

namespace Cli.Output;

/// <summary>One entry of an rqlite <c>results</c> array: rows (columns, types, values), a write's counts, or a statement's error.</summary>
internal sealed record QueryResult(
    IReadOnlyList<string>? Columns,
    IReadOnlyList<string>? Types,
    IReadOnlyList<IReadOnlyList<JsonElement>> Rows,
    long? LastInsertId,
    long? RowsAffected,
    string? Error)
{
    public bool IsRows => Columns is not null;

    /// <summary>The results of an answer; an answer without <c>results</c> is not what a data route gives.</summary>
    public static IReadOnlyList<QueryResult> ListFrom(JsonElement answer)
    {
        if (!answer.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
        {
            throw new CliException(ExitCodes.ServiceError, "The answer has no \"results\": " + answer.GetRawText());
        }

        return results.EnumerateArray().Select(From).ToList();
    }

    private static QueryResult From(JsonElement result)
    {
        if (result.TryGetProperty("error", out var error))
        {
            return new QueryResult(null, null, [], null, null, error.GetString());
        }

        if (result.TryGetProperty("columns", out var columns))
        {
            var rows = result.TryGetProperty("values", out var values)
                ? values.EnumerateArray().Select(row => (IReadOnlyList<JsonElement>)row.EnumerateArray().Select(v => v.Clone()).ToList()).ToList()
                : [];
            return new QueryResult(
                columns.EnumerateArray().Select(c => c.GetString() ?? "").ToList(),
                result.TryGetProperty("types", out var types) ? types.EnumerateArray().Select(t => t.GetString() ?? "").ToList() : null,
                rows,
                null,
                null,
                null);
        }

        return new QueryResult(
            null,
            null,
            [],
            result.TryGetProperty("last_insert_id", out var id) ? id.GetInt64() : null,
            result.TryGetProperty("rows_affected", out var affected) ? affected.GetInt64() : null,
            null);
    }
}
