using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.UnitTests.Protocol;

public sealed class ResultsJsonWriterTests
{
    private static readonly RowsResult Fiona = new(["id", "name"], ["integer", "text"], [[1L, "fiona"]]);

    private static string Write(IReadOnlyList<StatementResult> results, bool associative = false, bool pretty = false, bool timings = false, bool unified = false, double? total = null, int maxBytes = 1 << 20) =>
        ResultsJsonWriter.Write(results, new ResponseFormat(associative, pretty, timings, unified), total, maxBytes);

    [Fact]
    public void Rows_are_written_as_columns_types_and_values() =>
        Assert.Equal("""{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}""", Write([Fiona]));

    [Fact]
    public void Values_are_omitted_when_there_are_no_rows() =>
        Assert.Equal("""{"results":[{"columns":["id"],"types":["integer"]}]}""", Write([new RowsResult(["id"], ["integer"], [])]));

    [Fact]
    public void Zero_fields_of_an_execute_result_are_omitted_so_create_table_gives_an_empty_object() =>
        Assert.Equal("""{"results":[{},{"last_insert_id":3,"rows_affected":1},{"rows_affected":2}]}""",
            Write([new ExecResult(0, 0), new ExecResult(3, 1), new ExecResult(0, 2)]));

    [Fact]
    public void Errors_are_objects_with_one_error_field() =>
        Assert.Equal("""{"results":[{"error":"no such table: foo"}]}""", Write([new ErrorResult("no such table: foo")]));

    [Fact]
    public void Blobs_are_base64_and_reals_and_nulls_are_json() =>
        Assert.Equal("""{"results":[{"columns":["b","r","n"],"types":["blob","real",""],"values":[["AQL/",2.5,null]]}]}""",
            Write([new RowsResult(["b", "r", "n"], ["blob", "real", ""], [[new byte[] { 1, 2, 255 }, 2.5, null]])]));

    [Fact]
    public void Infinity_is_written_as_sqlite_writes_it() =>
        Assert.Contains("[[9e999,-9e999,null]]", Write([new RowsResult(["a", "b", "c"], ["", "", ""], [[double.PositiveInfinity, double.NegativeInfinity, double.NaN]])]));

    [Fact]
    public void Text_is_not_html_escaped_as_in_rqlite() =>
        Assert.Contains("""["<b>&'é"]""", Write([new RowsResult(["t"], ["text"], [["<b>&'é"]])]));

    [Fact]
    public void Associative_rows_are_objects_with_a_types_map() =>
        Assert.Equal("""{"results":[{"types":{"id":"integer","name":"text"},"rows":[{"id":1,"name":"fiona"}]}]}""",
            Write([Fiona], associative: true));

    [Fact]
    public void Associative_empty_rows_are_an_empty_array() =>
        Assert.Equal("""{"results":[{"types":{"id":"integer"},"rows":[]}]}""",
            Write([new RowsResult(["id"], ["integer"], [])], associative: true));

    [Fact]
    public void Associative_execute_results_on_request_carry_null_rows() =>
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1,"rows":null}]}""",
            Write([new ExecResult(1, 1)], associative: true, unified: true));

    [Fact]
    public void Associative_execute_results_elsewhere_carry_no_rows() =>
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1}]}""", Write([new ExecResult(1, 1)], associative: true));

    [Fact]
    public void Timings_add_per_statement_and_total_time()
    {
        var json = Write([new ExecResult(1, 1) { Seconds = 0.25 }], timings: true, total: 0.5);
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1,"time":0.25}],"time":0.5}""", json);
    }

    [Fact]
    public void Time_is_absent_without_the_timings_flag() =>
        Assert.DoesNotContain("time", Write([new ExecResult(1, 1) { Seconds = 0.25 }], total: 0.5));

    [Fact]
    public void Pretty_indents_with_four_spaces() =>
        Assert.Contains("\n        {\n            \"last_insert_id\": 1", Write([new ExecResult(1, 0)], pretty: true));

    [Fact]
    public void A_response_over_the_limit_is_a_413()
    {
        var big = new RowsResult(["t"], ["text"], Enumerable.Range(0, 1000).Select(i => new object?[] { new string('x', 100) }).ToList());
        Assert.Throws<PayloadTooLargeException>(() => Write([big], maxBytes: 50_000));
    }
}
