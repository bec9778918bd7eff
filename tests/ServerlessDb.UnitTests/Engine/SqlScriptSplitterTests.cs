using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;

namespace ServerlessDb.UnitTests.Engine;

public sealed class SqlScriptSplitterTests
{
    [Fact]
    public void Statements_split_at_semicolons_that_end_them()
    {
        var statements = SqlScriptSplitter.Split("CREATE TABLE t(a);\nINSERT INTO t VALUES ('x;y'); -- a ; comment\nSELECT * FROM t", 100);
        Assert.Equal(["CREATE TABLE t(a);", "INSERT INTO t VALUES ('x;y');", "-- a ; comment\nSELECT * FROM t"], statements.Select(s => s.Sql));
    }

    [Fact]
    public void A_trigger_body_is_not_split()
    {
        var script = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (1); UPDATE n SET c = c + 1; END; SELECT 1;";
        var statements = SqlScriptSplitter.Split(script, 100);
        Assert.Equal(2, statements.Count);
        Assert.EndsWith("END;", statements[0].Sql);
    }

    [Fact]
    public void An_empty_script_has_no_statements()
    {
        var error = Assert.Throws<BadRequestException>(() => SqlScriptSplitter.Split(" ;\n ; ", 100));
        Assert.Equal(RequestMessages.NoStatements, error.Message);
    }

    [Fact]
    public void The_statement_limit_applies()
    {
        Assert.Throws<BadRequestException>(() => SqlScriptSplitter.Split("SELECT 1; SELECT 2; SELECT 3;", 2));
    }

    [Theory]
    [InlineData("SELECT 1\0", new[] { "SELECT 1\0" })]
    [InlineData("SELECT 1; SELECT 2\0; SELECT 3", new[] { "SELECT 1;", "SELECT 2\0;", "SELECT 3" })]
    [InlineData("\0", new[] { "\0" })]
    public void A_nul_character_stays_in_its_statement_for_the_engine_to_answer_as_that_statements_error(string script, string[] expected)
    {
        Assert.Equal(expected, SqlScriptSplitter.Split(script, 100).Select(s => s.Sql));
    }
}
