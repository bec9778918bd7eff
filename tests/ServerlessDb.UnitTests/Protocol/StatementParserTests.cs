using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.UnitTests.Protocol;

public sealed class StatementParserTests
{
    private static IReadOnlyList<Statement> Parse(string json, int maxStatements = 100) =>
        StatementParser.ParseJson(Encoding.UTF8.GetBytes(json), maxStatements);

    [Fact]
    public void Plain_strings_are_statements_without_parameters()
    {
        var statements = Parse("""["CREATE TABLE foo (id INTEGER)", "SELECT * FROM foo"]""");
        Assert.Equal(["CREATE TABLE foo (id INTEGER)", "SELECT * FROM foo"], statements.Select(s => s.Sql));
        Assert.All(statements, s => Assert.True(s.Positional.Count == 0 && s.Named.Count == 0));
    }

    [Fact]
    public void Positional_parameters_keep_their_json_types()
    {
        var statement = Assert.Single(Parse("""[["INSERT INTO t VALUES(?, ?, ?, ?, ?, ?)", 7, 2.5, "x", true, null, 9007199254740993]]"""));
        Assert.Equal("INSERT INTO t VALUES(?, ?, ?, ?, ?, ?)", statement.Sql);
        Assert.Equal([7L, 2.5, "x", true, null, 9007199254740993L], statement.Positional);
    }

    [Fact]
    public void A_number_with_a_fraction_or_exponent_or_beyond_int64_is_real()
    {
        var statement = Assert.Single(Parse("""[["SELECT ?, ?, ?", 1.0, 1e3, 99999999999999999999]]"""));
        Assert.Equal([1.0, 1000.0, 1e20], statement.Positional);
    }

    [Fact]
    public void Named_parameters_come_from_an_object()
    {
        var statement = Assert.Single(Parse("""[["INSERT INTO t VALUES(:name, :age)", {"name": "fiona", "age": 20}]]"""));
        Assert.Equal("fiona", statement.Named["name"]);
        Assert.Equal(20L, statement.Named["age"]);
        Assert.Empty(statement.Positional);
    }

    [Fact]
    public void An_array_of_bytes_is_a_blob()
    {
        var statement = Assert.Single(Parse("""[["INSERT INTO t VALUES(?)", [0, 1, 255]]]"""));
        Assert.Equal(new byte[] { 0, 1, 255 }, statement.Positional[0]);
    }

    [Fact]
    public void Plain_and_parameterized_statements_can_be_mixed()
    {
        var statements = Parse("""["SELECT 1", ["SELECT ?", 2]]""");
        Assert.Equal(2, statements.Count);
        Assert.Equal([2L], statements[1].Positional);
    }

    [Theory]
    [InlineData("not json", ProtocolMessages.InvalidJson)]
    [InlineData("[\"unterminated", ProtocolMessages.InvalidJson)]
    [InlineData("", ProtocolMessages.InvalidJson)]
    [InlineData("{\"sql\": \"SELECT 1\"}", ProtocolMessages.InvalidRequest)]
    [InlineData("\"SELECT 1\"", ProtocolMessages.InvalidRequest)]
    [InlineData("[]", RequestMessages.NoStatements)]
    [InlineData("[[]]", RequestMessages.NoStatements)]
    [InlineData("[42]", ProtocolMessages.InvalidRequest)]
    [InlineData("[[42, 1]]", ProtocolMessages.InvalidRequest)]
    public void Malformed_bodies_get_rqlites_messages(string body, string message)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(body));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("""[["SELECT ?", [256]]]""")]
    [InlineData("""[["SELECT ?", [-1]]]""")]
    [InlineData("""[["SELECT ?", [1.5]]]""")]
    [InlineData("""[["SELECT ?", ["a"]]]""")]
    [InlineData("""[["SELECT :a", {"a": {"nested": 1}}]]""")]
    [InlineData("""[["SELECT :a", {"a": [1, "x"]}]]""")]
    public void Unsupported_parameter_types_are_refused(string body)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(body));
        Assert.StartsWith("unsupported type for parameter", error.Message);
    }

    [Fact]
    public void Too_many_statements_are_refused()
    {
        var error = Assert.Throws<BadRequestException>(() => Parse("""["SELECT 1", "SELECT 2", "SELECT 3"]""", maxStatements: 2));
        Assert.Equal(RequestMessages.TooManyStatements(2), error.Message);
    }

    [Fact]
    public void A_plain_text_body_is_one_statement()
    {
        var statement = Assert.Single(StatementParser.ParsePlainText(Encoding.UTF8.GetBytes("SELECT 'a;b'; SELECT 2")));
        Assert.Equal("SELECT 'a;b'; SELECT 2", statement.Sql);
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        var error = Assert.Throws<BadRequestException>(() => StatementParser.ParsePlainText(new byte[] { 0x53, 0xff, 0xfe }));
        Assert.Contains("UTF-8", error.Message);
    }

    [Theory]
    [InlineData("[\"SELECT 1\\u0000\"]")]
    [InlineData("[[\"SELECT ?\\u0000\", 1]]")]
    [InlineData("[\"SELECT 1\", \"SELECT 2; \\u0000 DROP TABLE t\"]")]
    public void Sql_with_a_nul_character_is_parsed_as_sent_for_the_engine_to_answer_as_that_statements_error(string body)
    {
        Assert.Contains(Parse(body), s => s.Sql.Contains('\0', StringComparison.Ordinal));
    }

    [Fact]
    public void Sql_with_a_nul_character_in_a_plain_text_body_is_parsed_as_sent()
    {
        Assert.Equal("SELECT 1\0", Assert.Single(StatementParser.ParsePlainText("SELECT 1\0"u8.ToArray())).Sql);
    }

    [Fact]
    public void A_nul_character_in_a_parameter_value_is_data_not_sql()
    {
        var statement = Assert.Single(Parse("[[\"SELECT ?\", \"a\\u0000b\"]]"));
        Assert.Equal("a\0b", statement.Positional[0]);
    }

    [Theory]
    [InlineData("[\"SELECT '\\ud800'\"]", "the SQL of statement 1")]
    [InlineData("[\"SELECT 1\", [\"SELECT '\\udc00x'\"]]", "the SQL of statement 2")]
    [InlineData("[[\"SELECT ?\", \"\\ud800\"]]", "parameter 1 of statement 1")]
    [InlineData("[[\"SELECT :a\", {\"a\": \"ok\\udfff\"}]]", "parameter 'a' of statement 1")]
    [InlineData("[[\"SELECT :a\", {\"\\ud800\": 1}]]", "a parameter name of statement 1")]
    public void A_lone_surrogate_escape_is_a_bad_request(string body, string where)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(body));
        Assert.Equal(ProtocolMessages.InvalidText(where), error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xff })]
    [InlineData(new byte[] { 0xc3 })]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })]
    public void Invalid_utf8_inside_a_json_string_is_a_bad_request(byte[] bad)
    {
        byte[] body = [.. "[\"SELECT '"u8, .. bad, .. "'\"]"u8];
        var error = Assert.Throws<BadRequestException>(() => StatementParser.ParseJson(body, 100));
        Assert.Equal(ProtocolMessages.InvalidText("the SQL of statement 1"), error.Message);
    }

    [Fact]
    public void Invalid_utf8_inside_a_parameter_is_a_bad_request()
    {
        byte[] body = [.. "[[\"SELECT ?\", \"a"u8, 0xff, 0xfe, .. "\"]]"u8];
        var error = Assert.Throws<BadRequestException>(() => StatementParser.ParseJson(body, 100));
        Assert.Equal(ProtocolMessages.InvalidText("parameter 1 of statement 1"), error.Message);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1" + "0000000000" + "0000000000" + "0000000000" + "e300")]
    public void A_number_no_double_can_hold_is_a_bad_request(string number)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse($"[[\"SELECT ?\", {number}]]"));
        Assert.Equal(ProtocolMessages.NumberOutOfRange("1 of statement 1"), error.Message);
    }

    [Fact]
    public void Nesting_deeper_than_the_statement_shape_is_invalid_json()
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(new string('[', 10_000) + new string(']', 10_000)));
        Assert.Equal(ProtocolMessages.InvalidJson, error.Message);
    }
}
