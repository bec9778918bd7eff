using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Engine;

/// <summary>
/// Splits a <c>text/plain</c> script of ';'-separated statements (POST /sql) where SQLite's own
/// tokenizer says a statement ends, so a ';' inside a string, a comment or a trigger body does not
/// split it. The rule is sqlite3_complete's state machine (SQLite's complete.c), run once over the
/// script: asking sqlite3_complete again at every ';' rescanned the script from the last split, so a
/// megabyte of ';' inside one string literal took tens of minutes.
/// </summary>
internal static class SqlScriptSplitter
{
    private const int Semi = 0;
    private const int Space = 1;
    private const int Other = 2;
    private const int Explain = 3;
    private const int Create = 4;
    private const int Temp = 5;
    private const int Trigger = 6;
    private const int End = 7;

    /// <summary>The state after a token; state 1 right after a ';' means a statement is complete.</summary>
    private static readonly byte[,] Transitions =
    {
        /*                SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
        /* 0 INVALID */ { 1,   0, 2,    3,      4,     2,   2,      2 },
        /* 1 START   */ { 1,   1, 2,    3,      4,     2,   2,      2 },
        /* 2 NORMAL  */ { 1,   2, 2,    2,      2,     2,   2,      2 },
        /* 3 EXPLAIN */ { 1,   3, 3,    2,      4,     2,   2,      2 },
        /* 4 CREATE  */ { 1,   4, 2,    2,      2,     4,   5,      2 },
        /* 5 TRIGGER */ { 6,   5, 5,    5,      5,     5,   5,      5 },
        /* 6 SEMI    */ { 6,   6, 5,    5,      5,     5,   5,      7 },
        /* 7 END     */ { 1,   7, 5,    5,      5,     5,   5,      5 },
    };

    public static IReadOnlyList<Statement> Split(string script, int maxStatements)
    {
        var statements = new List<Statement>();
        var start = 0;
        var state = 0;
        for (var i = 0; i < script.Length; i++)
        {
            var token = NextToken(script, ref i);
            if (token < 0)
            {
                break; // an unterminated string, identifier or comment runs to the end: no further split
            }

            state = Transitions[state, token];
            if (token == Semi && state == 1)
            {
                Add(statements, script[start..(i + 1)], maxStatements);
                start = i + 1;
            }
        }

        Add(statements, script[start..], maxStatements);
        return statements.Count > 0 ? statements : throw new BadRequestException(RequestMessages.NoStatements);
    }

    /// <summary>Reads the token at <paramref name="i"/>, leaving <paramref name="i"/> on its last character; -1 when it does not end.</summary>
    private static int NextToken(string sql, ref int i)
    {
        switch (sql[i])
        {
            case ';':
                return Semi;
            case ' ' or '\r' or '\t' or '\n' or '\f':
                return Space;
            case '/' when i + 1 < sql.Length && sql[i + 1] == '*':
                var close = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0)
                {
                    return -1;
                }

                i = close + 1;
                return Space;
            case '-' when i + 1 < sql.Length && sql[i + 1] == '-':
                var newline = sql.IndexOf('\n', i);
                if (newline < 0)
                {
                    return -1;
                }

                i = newline;
                return Space;
            case '[':
                return Skip(sql, ref i, ']');
            case '`' or '"' or '\'':
                return Skip(sql, ref i, sql[i]);
            default:
                if (!IsIdentifierChar(sql[i]))
                {
                    return Other;
                }

                var begin = i;
                while (i + 1 < sql.Length && IsIdentifierChar(sql[i + 1]))
                {
                    i++;
                }

                return Keyword(sql.AsSpan(begin, i - begin + 1));
        }
    }

    private static int Skip(string sql, ref int i, char closing)
    {
        var end = sql.IndexOf(closing, i + 1);
        if (end < 0)
        {
            return -1;
        }

        i = end;
        return Other;
    }

    // SQLite's IdChar: letters, digits, '_', '$', and every byte of a non-ASCII character.
    private static bool IsIdentifierChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c >= 0x80;

    // ASCII case only, as SQLite compares: under OrdinalIgnoreCase a dotless 'ı' would make "explaın" a keyword.
    private static int Keyword(ReadOnlySpan<char> word) =>
        word.ContainsAnyExceptInRange('\0', '\x7f') ? Other
        : word.Equals("create", StringComparison.OrdinalIgnoreCase) ? Create
        : word.Equals("trigger", StringComparison.OrdinalIgnoreCase) ? Trigger
        : word.Equals("temp", StringComparison.OrdinalIgnoreCase) || word.Equals("temporary", StringComparison.OrdinalIgnoreCase) ? Temp
        : word.Equals("end", StringComparison.OrdinalIgnoreCase) ? End
        : word.Equals("explain", StringComparison.OrdinalIgnoreCase) ? Explain
        : Other;

    private static void Add(List<Statement> statements, string sql, int maxStatements)
    {
        var trimmed = sql.Trim();
        if (trimmed.Length == 0 || trimmed == ";")
        {
            return;
        }

        if (statements.Count == maxStatements)
        {
            throw new BadRequestException(RequestMessages.TooManyStatements(maxStatements));
        }

        statements.Add(new Statement(trimmed));
    }
}
