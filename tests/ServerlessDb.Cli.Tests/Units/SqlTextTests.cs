using Cli.Shell;

namespace ServerlessDb.Cli.Tests.Units;

/// <summary>When the shell sends what was typed: at a ';' that ends a statement, as sqlite3_complete decides.</summary>
public sealed class SqlTextTests
{
    [Theory]
    [InlineData("SELECT 1;")]
    [InlineData("SELECT 1;  -- done")]
    [InlineData("SELECT 'a;b';")]
    [InlineData("SELECT \"x;y\" FROM t;")]
    [InlineData("SELECT 1 /* ; */;")]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (1);\nEND;")]
    [InlineData("CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); END; SELECT 1;")]
    [InlineData("SELECT 1; SELECT 2;")]
    public void A_statement_ended_by_a_semicolon_is_complete(string text) => Assert.True(SqlText.IsComplete(text));

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("SELECT ';")]
    [InlineData("SELECT 1 -- ;")]
    [InlineData("SELECT 1 /* ; ")]
    [InlineData("SELECT [a;")]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (1);")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("")]
    public void Text_that_ends_inside_a_statement_a_string_or_a_trigger_is_not(string text) => Assert.False(SqlText.IsComplete(text));
}
