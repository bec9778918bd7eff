using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

public sealed class StatementExecutorTests : IDisposable
{
    private readonly TempDatabase _database = new(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL, photo BLOB)",
        "INSERT INTO users(name, age, score, photo) VALUES ('fiona', 20, 1.5, x'0102ff')");

    public void Dispose() => _database.Dispose();

    private StatementResult Run(Statement statement, bool readOnly = false, bool readsReturnNoRows = false, TimeSpan? timeout = null, int maxBytes = 1 << 20)
    {
        using var session = readOnly ? SqliteSession.OpenReadOnly(_database.FilePath) : SqliteSession.OpenWorkingCopy(_database.FilePath);
        var executor = new StatementExecutor(session, new ResultBudget(maxBytes), readsReturnNoRows, timeout, () => TimeSpan.FromMinutes(1));
        return executor.Execute(statement);
    }

    [Fact]
    public void A_query_reports_columns_declared_types_and_values_of_every_storage_class()
    {
        var result = Run(new Statement("SELECT id, name, age, score, photo, NULL AS missing FROM users"), readOnly: true);
        Assert.False(result is ErrorResult, (result as ErrorResult)?.Error);
        var rows = Assert.IsType<RowsResult>(result);
        Assert.Equal(["id", "name", "age", "score", "photo", "missing"], rows.Columns);
        Assert.Equal(["integer", "text", "integer", "real", "blob", ""], rows.Types);
        var row = Assert.Single(rows.Rows);
        Assert.Equal(1L, row[0]);
        Assert.Equal("fiona", row[1]);
        Assert.Equal(20L, row[2]);
        Assert.Equal(1.5, row[3]);
        Assert.Equal(new byte[] { 1, 2, 255 }, row[4]);
        Assert.Null(row[5]);
    }

    [Fact]
    public void An_expression_column_takes_the_type_of_its_first_value_as_rqlite_does()
    {
        var rows = Assert.IsType<RowsResult>(Run(new Statement("SELECT COUNT(*), 'x', 2.5 FROM users"), readOnly: true));
        Assert.Equal(["integer", "text", "real"], rows.Types);
    }

    [Fact]
    public void An_insert_reports_last_insert_id_and_rows_affected()
    {
        var exec = Assert.IsType<ExecResult>(Run(new Statement("INSERT INTO users(name) VALUES ('a'), ('b')")));
        Assert.Equal(3, exec.LastInsertId);
        Assert.Equal(2, exec.RowsAffected);
    }

    [Fact]
    public void Ddl_reports_no_rows_affected()
    {
        var exec = Assert.IsType<ExecResult>(Run(new Statement("CREATE TABLE t(a)")));
        Assert.Equal(0, exec.RowsAffected);
    }

    [Fact]
    public void A_write_with_returning_reports_its_rows()
    {
        var rows = Assert.IsType<RowsResult>(Run(new Statement("INSERT INTO users(name) VALUES ('r') RETURNING id, name")));
        Assert.Equal([2L, "r"], Assert.Single(rows.Rows));
    }

    [Fact]
    public void A_read_sent_to_execute_reports_no_rows_as_rqlite_does()
    {
        Assert.IsType<ExecResult>(Run(new Statement("SELECT * FROM users"), readsReturnNoRows: true));
        Assert.IsType<RowsResult>(Run(new Statement("INSERT INTO users(name) VALUES ('r') RETURNING id"), readsReturnNoRows: true));
    }

    [Fact]
    public void Positional_parameters_bind_in_order_with_every_type()
    {
        var rows = Assert.IsType<RowsResult>(Run(
            new Statement("SELECT ?, ?, ?, ?, ?, ?", [42L, 2.5, "text", true, null, new byte[] { 7 }], new Dictionary<string, object?>()),
            readOnly: true));
        Assert.Equal([42L, 2.5, "text", 1L, null, new byte[] { 7 }], Assert.Single(rows.Rows));
    }

    [Theory]
    [InlineData("SELECT :name, :age")]
    [InlineData("SELECT @name, @age")]
    [InlineData("SELECT $name, $age")]
    public void Named_parameters_bind_by_name_without_prefix(string sql)
    {
        var rows = Assert.IsType<RowsResult>(Run(
            new Statement(sql, [], new Dictionary<string, object?> { ["age"] = 3L, ["name"] = "fiona" }),
            readOnly: true));
        Assert.Equal(["fiona", 3L], Assert.Single(rows.Rows));
    }

    [Fact]
    public void A_missing_parameter_is_a_statement_error()
    {
        var error = Assert.IsType<ErrorResult>(Run(new Statement("SELECT ?, ?", [1L], new Dictionary<string, object?>()), readOnly: true));
        Assert.Contains("missing value for parameter 2", error.Error);
    }

    [Fact]
    public void A_constraint_violation_is_a_statement_error_with_sqlites_message()
    {
        var error = Assert.IsType<ErrorResult>(Run(new Statement("INSERT INTO users(id, name) VALUES (1, 'dup')")));
        Assert.Equal("UNIQUE constraint failed: users.id", error.Error);
    }

    [Fact]
    public void A_write_on_a_read_only_connection_fails_even_if_it_got_there()
    {
        var error = Assert.IsType<ErrorResult>(Run(new Statement("DELETE FROM users"), readOnly: true));
        Assert.Contains("readonly", error.Error);
    }

    [Fact]
    public void Vacuum_into_is_refused_when_it_runs_and_writes_no_file()
    {
        var target = Path.Combine(_database.Directory, "stolen.sqlite");
        var refused = Assert.Throws<StatementRefusedException>(() => Run(new Statement($"VACUUM INTO '{target}'"), readOnly: true));
        Assert.Equal(EngineMessages.Attach, refused.Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void Plain_vacuum_compacts_the_working_copy_and_keeps_its_rows()
    {
        Run(new Statement("INSERT INTO users(name) SELECT printf('%.1000c', 'x') FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 500) SELECT n FROM c)"));
        Run(new Statement("DELETE FROM users WHERE id > 1"));
        var before = new FileInfo(_database.FilePath).Length;

        var vacuum = Run(new Statement("VACUUM"));

        Assert.False(vacuum is ErrorResult, (vacuum as ErrorResult)?.Error);
        Assert.True(new FileInfo(_database.FilePath).Length < before / 10, $"{before} bytes before, {new FileInfo(_database.FilePath).Length} after");
        var rows = Assert.IsType<RowsResult>(Run(new Statement("SELECT name FROM users"), readOnly: true));
        Assert.Equal("fiona", Assert.Single(rows.Rows)[0]);
        Assert.Empty(Directory.GetFiles(_database.Directory, "*-journal"));
    }

    [Fact]
    public void Attaching_an_unnamed_database_is_still_refused_when_a_user_asks()
    {
        var refused = Assert.Throws<StatementRefusedException>(() => Run(new Statement("ATTACH '' AS scratch")));
        Assert.Equal(EngineMessages.Attach, refused.Message);
    }

    [Fact]
    public void Vacuum_into_is_refused_on_a_working_copy_too()
    {
        var target = Path.Combine(_database.Directory, "copy.sqlite");
        var refused = Assert.Throws<StatementRefusedException>(() => Run(new Statement($"VACUUM INTO '{target}'")));
        Assert.Equal(EngineMessages.Attach, refused.Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_statement_past_its_time_limit_is_interrupted()
    {
        var error = Assert.IsType<ErrorResult>(Run(
            new Statement("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"),
            readOnly: true,
            timeout: TimeSpan.FromMilliseconds(200)));
        Assert.Equal(StatementExecutor.TimedOut, error.Error);
    }

    [Fact]
    public void A_result_larger_than_the_budget_stops_with_413()
    {
        Assert.Throws<PayloadTooLargeException>(() => Run(
            new Statement("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT x, 'padding padding' FROM c"),
            readOnly: true,
            maxBytes: 10_000));
    }

    [Fact]
    public void Several_statements_in_one_string_all_run_and_the_last_one_reports()
    {
        var exec = Assert.IsType<ExecResult>(Run(new Statement("INSERT INTO users(name) VALUES ('a'); INSERT INTO users(name) VALUES ('b')")));
        Assert.Equal(3, exec.LastInsertId);
        Assert.Equal(1, exec.RowsAffected);
    }

    [Fact]
    public void Rows_written_by_a_trigger_are_not_counted_as_the_statements_own()
    {
        Run(new Statement("CREATE TABLE audit(name TEXT); CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (new.name); INSERT INTO audit VALUES (new.name); END"));
        var exec = Assert.IsType<ExecResult>(Run(new Statement("INSERT INTO users(name) VALUES ('t')")));
        Assert.Equal(1, exec.RowsAffected);
    }

    [Fact]
    public void A_value_larger_than_the_length_limit_is_a_statement_error_not_an_allocation()
    {
        var error = Assert.IsType<ErrorResult>(Run(new Statement($"SELECT length(randomblob({SqliteSession.MaxValueBytes + 1}))"), readOnly: true));
        Assert.Equal("string or blob too big", error.Error);
    }
}
