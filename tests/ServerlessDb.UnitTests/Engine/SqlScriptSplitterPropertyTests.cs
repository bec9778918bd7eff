using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SQLitePCL;
using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

/// <summary>The one-pass splitter splits exactly where asking sqlite3_complete at every ';' does, and in linear time.</summary>
public sealed class SqlScriptSplitterPropertyTests
{
    static SqlScriptSplitterPropertyTests() => Batteries_V2.Init();

    /// <summary>The reference: SQLite's own sqlite3_complete, asked at every ';' (quadratic, so for small scripts only).</summary>
    private static List<string> SplitWithSqlite(string script)
    {
        var statements = new List<string>();
        var start = 0;
        for (var i = script.IndexOf(';'); i >= 0; i = script.IndexOf(';', i + 1))
        {
            if (raw.sqlite3_complete(script[start..(i + 1)]) != 0)
            {
                statements.Add(script[start..(i + 1)]);
                start = i + 1;
            }
        }

        statements.Add(script[start..]);
        return [.. statements.Select(s => s.Trim()).Where(s => s.Length > 0 && s != ";")];
    }

    private static List<string>? SplitOrNull(string script)
    {
        try
        {
            return [.. SqlScriptSplitter.Split(script, 10_000).Select(s => s.Sql)];
        }
        catch (BadRequestException e) when (e.Message == RequestMessages.NoStatements)
        {
            return [];
        }
    }

    [Property(MaxTest = 3000)]
    public Property It_splits_where_sqlite3_complete_says_statements_end() =>
        Prop.ForAll(HostileText.SqlLike.Filter(s => !s.Contains('\0', StringComparison.Ordinal)), script =>
        {
            var expected = SplitWithSqlite(script);
            var actual = Bounded.Run(() => SplitOrNull(script)!, "Split");
            return expected.SequenceEqual(actual).Label($"expected [{string.Join(" | ", expected)}] got [{string.Join(" | ", actual)}]");
        });

    [Theory]
    [InlineData("SELECT 1; CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT ';'; END; SELECT 2", 3)]
    [InlineData("CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2;", 2)]
    [InlineData("EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2;", 2)]
    [InlineData("SELECT [a;b], `c;d`, \"e;f\", 'g;h'; SELECT 2 /* ; */ -- ;\n; SELECT 3", 3)]
    [InlineData("SELECT 'unterminated; SELECT 2; SELECT 3", 1)]
    [InlineData("SELECT 1; /* unterminated; SELECT 2;", 2)]
    [InlineData("SELECT 1; SELECT 2 -- no newline; SELECT 3;", 2)]
    [InlineData("CREATE TRIGGER explaın AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2;", 2)]
    public void It_agrees_with_sqlite3_complete_on_triggers_quotes_and_comments(string script, int count)
    {
        var statements = SqlScriptSplitter.Split(script, 100).Select(s => s.Sql).ToList();

        Assert.Equal(SplitWithSqlite(script), statements);
        Assert.Equal(count, statements.Count);
    }

    [Theory]
    [InlineData("SELECT '", "'")]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON t BEGIN ", " END;")]
    [InlineData("SELECT 1 /*", "*/")]
    public void A_megabyte_of_semicolons_splits_in_linear_time(string before, string after)
    {
        var script = before + new string(';', 1024 * 1024) + after;

        var statements = Bounded.Run(() => SqlScriptSplitter.Split(script, 1000), "Split");

        Assert.Single(statements);
    }
}
