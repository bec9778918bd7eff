namespace ServerlessDb.Domain;

/// <summary>The messages for a request as a whole, shared by the wire parsers and the engine; rqlite's wording where rqlite has one.</summary>
internal static class RequestMessages
{
    public const string NoStatements = "no statements";
    public const string NulInSql = "SQL contains a NUL character (U+0000): SQLite ignores everything after it; remove it";

    public static string TooManyStatements(int limit) => $"too many statements: at most {limit} per request";

    public static string ResultTooLarge(int maxBytes) =>
        $"result too large: more than {maxBytes} bytes; select fewer rows or columns (LIMIT/OFFSET)";
}
