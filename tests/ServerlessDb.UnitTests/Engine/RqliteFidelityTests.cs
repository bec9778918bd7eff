using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

/// <summary>
/// Rows read as rqlite reads them (time and boolean columns) and double-quoted string literals
/// accepted as rqlite's SQLite accepts them, on the read path, the write path and in classification.
/// </summary>
public sealed class RqliteFidelityTests : IDisposable
{
    private readonly TempDatabase _database = new("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users(name) VALUES ('fiona')");
    private readonly EngineHarness _harness = new();

    public void Dispose()
    {
        _harness.Dispose();
        _database.Dispose();
    }

    private StatementResult Run(string sql, bool readOnly = false)
    {
        using var session = readOnly ? SqliteSession.OpenReadOnly(_database.FilePath) : SqliteSession.OpenWorkingCopy(_database.FilePath);
        return new StatementExecutor(session, new ResultBudget(1 << 20), false, null, () => TimeSpan.FromMinutes(1)).Execute(new Statement(sql));
    }

    private static RowsResult Rows(StatementResult result)
    {
        Assert.False(result is ErrorResult, (result as ErrorResult)?.Error);
        return Assert.IsType<RowsResult>(result);
    }

    [Fact]
    public async Task A_multi_statement_string_reports_its_last_write_as_rqlites_single_node_test_does()
    {
        // rqlite system_test/single_node_test.go Test_SingleNodeSQLInjection: two inserts and a DROP in one string.
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE foo (id integer not null primary key, name text)", "CREATE TABLE bar (id integer not null primary key, name text)");
        var outcome = await _harness.RunAsync(RequestKind.Execute, """INSERT INTO foo(name) VALUES("alice");DROP TABLE foo;INSERT INTO bar(name) VALUES("bob")""");
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1}]}""", EngineHarness.Json(outcome, RequestKind.Execute));
    }

    [Fact]
    public async Task Ddl_after_a_write_in_the_same_request_repeats_its_counts_as_rqlite_does()
    {
        // rqlite system_test/single_node_test.go Test_SingleNode: DROP TABLE after an INSERT answers the INSERT's last_insert_id and rows_affected (sqlite3_changes is left by DDL).
        var outcome = await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE foo (id integer not null primary key, name text)", """INSERT INTO foo(name) VALUES("fiona")""", "DROP TABLE foo");
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1},{"last_insert_id":1,"rows_affected":1}]}""", EngineHarness.Json(outcome, RequestKind.Execute));
    }

    [Fact]
    public async Task Rqlite_sqlite_time_types_test()
    {
        // rqlite db/db_common_test.go Test_DB_SQLiteTimeTypes, statement for statement.
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE foo(d DATE, ts TIMESTAMP, dt DATETIME)");
        await _harness.RunAsync(RequestKind.Execute, """INSERT INTO foo(d, ts, dt) VALUES("2004-02-14", "2004-02-14 07:15:00", "2021-10-22 19:39:32.016087")""");
        var outcome = await _harness.RunAsync(RequestKind.Query, "SELECT d, ts, dt FROM foo");
        Assert.Equal(
            """{"results":[{"columns":["d","ts","dt"],"types":["date","timestamp","datetime"],"values":[["2004-02-14T00:00:00Z","2004-02-14T07:15:00Z","2021-10-22T19:39:32.016087Z"]]}]}""",
            EngineHarness.Json(outcome, RequestKind.Query));
    }

    [Fact]
    public void Time_columns_convert_text_and_integers_and_leave_other_values_and_columns_alone()
    {
        Run("CREATE TABLE t(id INTEGER PRIMARY KEY, ts timeSTAMP, precise DATETIME(3), raw TEXT)");
        Run("INSERT INTO t(ts, precise, raw) VALUES ('2012-11-04 10:02:03', '2012-11-04 10:02:03', '2012-11-04 10:02:03'), (1136214245, 1136214245, 1136214245), (1136214245123, NULL, NULL), (2459000.5, x'01', NULL), ('not a date', NULL, NULL), (NULL, NULL, NULL)");
        var rows = Rows(Run("SELECT ts, precise, raw, ts AS renamed, ts || '' AS expression FROM t ORDER BY id", readOnly: true));
        Assert.Equal(["timestamp", "datetime(3)", "text", "timestamp", "text"], rows.Types);
        Assert.Equal(["2012-11-04T10:02:03Z", "2012-11-04 10:02:03", "2012-11-04 10:02:03", "2012-11-04T10:02:03Z", "2012-11-04 10:02:03"], rows.Rows[0]);
        Assert.Equal(["2006-01-02T15:04:05Z", 1136214245L, "1136214245", "2006-01-02T15:04:05Z", "1136214245"], rows.Rows[1]);
        Assert.Equal("2006-01-02T15:04:05.123Z", rows.Rows[2][0]);
        Assert.Equal(2459000.5, rows.Rows[3][0]);
        Assert.Equal(new byte[] { 1 }, rows.Rows[3][1]);
        Assert.Equal(DeclaredTypeValues.ZeroTime, rows.Rows[4][0]);
        Assert.Null(rows.Rows[5][0]);
    }

    [Fact]
    public void A_time_go_cannot_write_fails_the_statement_with_gos_message()
    {
        Run("CREATE TABLE t(d DATE)");
        Run("INSERT INTO t VALUES (999999999999)");
        var error = Assert.IsType<ErrorResult>(Run("SELECT d FROM t", readOnly: true));
        Assert.Equal("Time.MarshalText: year outside of range [0,9999]", error.Error);
    }

    [Fact]
    public void Returning_rows_are_read_the_same_way()
    {
        Run("CREATE TABLE t(d DATETIME)");
        var rows = Rows(Run("INSERT INTO t VALUES ('2020-01-02 03:04:05') RETURNING d"));
        Assert.Equal("2020-01-02T03:04:05Z", Assert.Single(rows.Rows)[0]);
    }

    [Fact]
    public void Integers_in_a_boolean_column_are_booleans()
    {
        Run("CREATE TABLE t(id INTEGER PRIMARY KEY, b BOOLEAN, i INTEGER)");
        Run("INSERT INTO t(b, i) VALUES (1, 1), (0, 0), (-1, -1), (2, 2), ('yes', 'yes'), (1.5, NULL)");
        var rows = Rows(Run("SELECT b, i FROM t ORDER BY id", readOnly: true));
        Assert.Equal(["boolean", "integer"], rows.Types);
        Assert.Equal([true, false, false, true, "yes", 1.5], rows.Rows.Select(r => r[0]));
        Assert.Equal(1L, rows.Rows[0][1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Double_quoted_strings_are_literals_when_they_name_no_column(bool readOnly)
    {
        var rows = Rows(Run("""SELECT "fiona", name FROM users WHERE name = "fiona" """, readOnly));
        Assert.Equal(["fiona", "fiona"], Assert.Single(rows.Rows));
    }

    [Fact]
    public void Double_quoted_strings_work_in_dml_and_ddl_on_the_write_path()
    {
        Assert.IsType<ExecResult>(Run("""INSERT INTO users(name) VALUES("declan")"""));
        Assert.IsType<ExecResult>(Run("""CREATE TABLE t(a TEXT CHECK (a <> "bad"))"""));
        Assert.IsType<ExecResult>(Run("""CREATE INDEX users_declan ON users(name) WHERE name = "declan" """));
    }

    [Theory]
    [InlineData("""SELECT * FROM users WHERE name = "fiona" """, "ReadOnly")]
    [InlineData("""INSERT INTO users(name) VALUES("declan")""", "Write")]
    [InlineData("""CREATE INDEX i ON users(name) WHERE name = "x" """, "Write")]
    public void Classification_prepares_double_quoted_strings_as_execution_does(string sql, string kind)
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        Assert.Equal(kind, StatementClassifier.Classify(session, new Statement(sql)).Kind.ToString());
    }

    [Fact]
    public async Task Through_the_engine_a_double_quoted_insert_commits_and_a_double_quoted_read_takes_the_read_path()
    {
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)");
        var insert = await _harness.RunAsync(RequestKind.Request, """INSERT INTO foo(name) VALUES("fiona")""");
        Assert.Equal("write", _harness.LastTrace.Path);
        Assert.Equal("""{"results":[{"last_insert_id":1,"rows_affected":1}]}""", EngineHarness.Json(insert, RequestKind.Execute));
        var query = await _harness.RunAsync(RequestKind.Request, """SELECT * FROM foo WHERE name = "fiona" """);
        Assert.Equal("read", _harness.LastTrace.Path);
        Assert.Equal("""{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}""", EngineHarness.Json(query, RequestKind.Query));
    }
}
