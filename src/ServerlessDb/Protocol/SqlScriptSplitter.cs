using ServerlessDb.Errors;
using SQLitePCL;

namespace ServerlessDb.Protocol;

/// <summary>
/// Splits a <c>text/plain</c> script of ';'-separated statements (POST /sql) where SQLite's own
/// tokenizer says a statement ends (sqlite3_complete), so a ';' inside a string, a comment or a
/// trigger body does not split it.
/// </summary>
public static class SqlScriptSplitter
{
    static SqlScriptSplitter() => Batteries_V2.Init();

    public static IReadOnlyList<Statement> Split(string script, int maxStatements)
    {
        if (script.Contains('\0', StringComparison.Ordinal))
        {
            throw new BadRequestException(ProtocolMessages.NulInSql);
        }

        var statements = new List<Statement>();
        var start = 0;
        for (var i = script.IndexOf(';'); i >= 0; i = script.IndexOf(';', i + 1))
        {
            var candidate = script[start..(i + 1)];
            if (raw.sqlite3_complete(candidate) != 0)
            {
                Add(statements, candidate, maxStatements);
                start = i + 1;
            }
        }

        Add(statements, script[start..], maxStatements);
        return statements.Count > 0 ? statements : throw new BadRequestException(ProtocolMessages.NoStatements);
    }

    private static void Add(List<Statement> statements, string sql, int maxStatements)
    {
        var trimmed = sql.Trim();
        if (trimmed.Length == 0 || trimmed == ";")
        {
            return;
        }

        if (statements.Count == maxStatements)
        {
            throw new BadRequestException(ProtocolMessages.TooManyStatements(maxStatements));
        }

        statements.Add(new Statement(trimmed));
    }
}
