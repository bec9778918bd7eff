using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

public sealed class QueryEngineTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private async Task SeedAsync() =>
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)", "INSERT INTO foo(name) VALUES ('fiona')");

    [Fact]
    public async Task The_first_write_creates_the_database_and_commits_one_version()
    {
        await SeedAsync();
        Assert.Equal(1, _harness.Store.Commits);
        Assert.Equal("write", _harness.LastTrace.Path);
        var outcome = await _harness.RunAsync(RequestKind.Query, "SELECT * FROM foo");
        Assert.Equal("""{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}""", EngineHarness.Json(outcome, RequestKind.Query));
        Assert.Equal("read", _harness.LastTrace.Path);
    }

    [Fact]
    public async Task A_request_is_one_commit_however_many_statements_it_has()
    {
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)", "DELETE FROM t WHERE a = 1");
        Assert.Equal(1, _harness.Store.Commits);
    }

    [Fact]
    public async Task A_delete_is_persisted()
    {
        await SeedAsync();
        await _harness.RunAsync(RequestKind.Execute, "DELETE FROM foo WHERE id = 1");
        var outcome = await _harness.RunAsync(RequestKind.Query, "SELECT COUNT(*) FROM foo");
        Assert.Equal(0L, Assert.IsType<RowsResult>(Assert.Single(outcome.Results)).Rows[0][0]);
        Assert.Equal(2, _harness.Store.Commits);
    }

    [Fact]
    public async Task A_write_that_changes_nothing_uploads_nothing()
    {
        await SeedAsync();
        var before = _harness.Store.CurrentETag("default");
        var outcome = await _harness.RunAsync(RequestKind.Execute, "DELETE FROM foo WHERE id = 999", "UPDATE foo SET name = 'x' WHERE 0");
        Assert.False(outcome.Committed);
        Assert.Equal("write", _harness.LastTrace.Path);
        Assert.Equal(before, _harness.Store.CurrentETag("default"));
        Assert.Equal(1, _harness.Store.Commits);
    }

    [Fact]
    public async Task Plain_vacuum_on_the_write_path_commits_a_compact_file()
    {
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE big(a)", "INSERT INTO big SELECT zeroblob(10000) FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 200) SELECT n FROM c)");
        await _harness.RunAsync(RequestKind.Execute, "DELETE FROM big");
        var before = new FileInfo(_harness.Store.CurrentPath("default")!).Length;

        var outcome = await _harness.RunAsync(RequestKind.Execute, "VACUUM");

        Assert.True(outcome.Committed);
        Assert.IsType<ExecResult>(Assert.Single(outcome.Results));
        Assert.True(new FileInfo(_harness.Store.CurrentPath("default")!).Length < before / 10, $"{before} bytes before VACUUM, {new FileInfo(_harness.Store.CurrentPath("default")!).Length} after");
    }

    [Fact]
    public async Task A_read_only_request_takes_the_read_path_even_on_execute()
    {
        await SeedAsync();
        var outcome = await _harness.RunAsync(RequestKind.Execute, "SELECT * FROM foo");
        Assert.Equal("read", _harness.LastTrace.Path);
        Assert.IsType<ExecResult>(Assert.Single(outcome.Results));
    }

    [Fact]
    public async Task A_write_sent_to_query_is_refused_per_statement_and_nothing_changes()
    {
        await SeedAsync();
        var outcome = await _harness.RunAsync(RequestKind.Query, "SELECT COUNT(*) FROM foo", "INSERT INTO foo(name) VALUES ('x')", "SELECT * FROM nope");
        Assert.Equal(
            """{"results":[{"columns":["COUNT(*)"],"types":["integer"],"values":[[1]]},{"error":"attempt to change database via query operation"},{"error":"no such table: nope"}]}""",
            EngineHarness.Json(outcome, RequestKind.Query));
        Assert.Equal(1, _harness.Store.Commits);
    }

    [Fact]
    public async Task Request_mixes_reads_and_writes_in_order_and_sees_its_own_writes()
    {
        var outcome = await _harness.RunAsync(RequestKind.Request, "CREATE TABLE t(a)", "INSERT INTO t VALUES (5)", "SELECT a FROM t");
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1},{"columns":["a"],"types":["integer"],"values":[[5]]}]}""", EngineHarness.Json(outcome));
    }

    [Fact]
    public async Task Without_transaction_statements_stand_alone_as_in_rqlite()
    {
        await SeedAsync();
        var outcome = await _harness.RunAsync(RequestKind.Execute,
            "INSERT INTO foo(id, name) VALUES (2, 'a')",
            "INSERT INTO foo(id, name) VALUES (1, 'duplicate')",
            "INSERT INTO foo(id, name) VALUES (3, 'c')");
        Assert.IsType<ErrorResult>(outcome.Results[1]);
        Assert.Equal(3, outcome.Results.Count);
        var count = await _harness.RunAsync(RequestKind.Query, "SELECT COUNT(*) FROM foo");
        Assert.Equal(3L, ((RowsResult)count.Results[0]).Rows[0][0]);
    }

    [Fact]
    public async Task With_transaction_the_first_failure_rolls_everything_back_and_nothing_is_uploaded()
    {
        await SeedAsync();
        var before = _harness.Store.CurrentETag("default");
        var outcome = await _harness.RunAsync(RequestKind.Execute, new RequestFlags { Transaction = true },
            "INSERT INTO foo(id, name) VALUES (2, 'a')",
            "INSERT INTO foo(id, name) VALUES (1, 'duplicate')",
            "INSERT INTO foo(id, name) VALUES (3, 'c')");
        Assert.Equal(2, outcome.Results.Count);
        Assert.Equal("UNIQUE constraint failed: foo.id", Assert.IsType<ErrorResult>(outcome.Results[1]).Error);
        Assert.False(outcome.Committed);
        Assert.Equal(before, _harness.Store.CurrentETag("default"));
    }

    [Fact]
    public async Task With_transaction_a_statement_that_rolls_back_by_itself_ends_the_request_cleanly()
    {
        await SeedAsync();
        var outcome = await _harness.RunAsync(RequestKind.Execute, new RequestFlags { Transaction = true },
            "INSERT INTO foo(id, name) VALUES (2, 'a')",
            "INSERT OR ROLLBACK INTO foo(id, name) VALUES (1, 'duplicate')");
        Assert.IsType<ErrorResult>(outcome.Results[1]);
        Assert.False(outcome.Committed);
    }

    [Fact]
    public async Task A_refused_statement_anywhere_fails_the_whole_request_and_changes_nothing()
    {
        await SeedAsync();
        var before = _harness.Store.CurrentETag("default");
        await Assert.ThrowsAsync<StatementRefusedException>(() =>
            _harness.RunAsync(RequestKind.Execute, "INSERT INTO foo(name) VALUES ('x')", "ATTACH 'other.sqlite' AS other"));
        await Assert.ThrowsAsync<StatementRefusedException>(() =>
            _harness.RunAsync(RequestKind.Execute, "CREATE TABLE t2(a)", "INSERT INTO t2 VALUES (1)", "VACUUM INTO '/tmp/x.sqlite'"));
        Assert.Equal(before, _harness.Store.CurrentETag("default"));
        Assert.Empty(Directory.GetFiles(_harness.WorkDirectory));
    }

    [Fact]
    public async Task A_refusal_hidden_behind_a_table_created_earlier_is_caught_at_execution()
    {
        var refused = await Assert.ThrowsAsync<StatementRefusedException>(() =>
            _harness.RunAsync(RequestKind.Request, "CREATE TABLE t(a)", "SELECT load_extension(a) FROM t"));
        Assert.Contains("load_extension", refused.Message);
        Assert.Equal(0, _harness.Store.Commits);
    }

    [Fact]
    public async Task A_conflicting_commit_runs_the_request_again_from_the_new_version()
    {
        await _harness.RunAsync(RequestKind.Execute, "CREATE TABLE counter(n INTEGER)", "INSERT INTO counter VALUES (0)");
        var competitor = true;
        _harness.Store.BeforeCommit = database =>
        {
            if (competitor)
            {
                competitor = false;
                // Another writer commits n = 100 between our read and our commit.
                var copy = Path.GetTempFileName();
                File.Copy(_harness.Store.CurrentPath(database)!, copy, overwrite: true);
                using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={copy};Pooling=False"))
                {
                    connection.Open();
                    using var command = new Microsoft.Data.Sqlite.SqliteCommand("UPDATE counter SET n = 100", connection);
                    command.ExecuteNonQuery();
                }

                _harness.Store.CommitFrom(database, copy);
                File.Delete(copy);
            }
        };

        var outcome = await _harness.RunAsync(RequestKind.Execute, "UPDATE counter SET n = n + 1");
        Assert.True(outcome.Committed);
        Assert.Equal(2, _harness.LastTrace.Attempts);
        Assert.Equal(1, _harness.Store.ConflictsRaised);
        var read = await _harness.RunAsync(RequestKind.Query, "SELECT n FROM counter");
        Assert.Equal(101L, ((RowsResult)read.Results[0]).Rows[0][0]);
    }

    [Fact]
    public async Task When_every_attempt_conflicts_the_conflict_is_reported()
    {
        using var harness = new EngineHarness(writeAttempts: 3);
        harness.Store.BeforeCommit = _ => throw new WriteConflictException("always behind");
        await Assert.ThrowsAsync<WriteConflictException>(() => harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)"));
        Assert.Equal(3, harness.LastTrace.Attempts);
        Assert.Empty(Directory.GetFiles(harness.WorkDirectory));
    }

    [Fact]
    public async Task The_uploaded_file_is_a_complete_rollback_journal_database()
    {
        await SeedAsync();
        var path = _harness.Store.CurrentPath("default")!;
        var header = File.ReadAllBytes(path).AsSpan(0, 20).ToArray();
        Assert.Equal("SQLite format 3\0"u8.ToArray(), header[..16]);
        Assert.Equal(1, header[18]); // file format write version 1 = rollback journal, 2 = WAL
        Assert.False(File.Exists(path + "-wal"));
        Assert.False(File.Exists(path + "-journal"));
    }

    [Fact]
    public async Task A_result_too_large_fails_with_413_and_commits_nothing()
    {
        using var harness = new EngineHarness(maxResultBytes: 2_000);
        await harness.RunAsync(RequestKind.Execute, "CREATE TABLE t(a)");
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => harness.RunAsync(RequestKind.Execute,
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1000) INSERT INTO t SELECT x FROM c RETURNING a"));
        Assert.Equal(1, harness.Store.Commits);
    }

    [Fact]
    public async Task Databases_are_independent()
    {
        await _harness.RunAsync(RequestKind.Execute, new RequestFlags { Database = "one" }, "CREATE TABLE only_in_one(a)");
        var outcome = await _harness.RunAsync(RequestKind.Query, new RequestFlags { Database = "two" }, "SELECT * FROM only_in_one");
        Assert.Equal("no such table: only_in_one", Assert.IsType<ErrorResult>(Assert.Single(outcome.Results)).Error);
    }

    [Fact]
    public async Task Empty_statements_are_skipped_as_in_rqlite()
    {
        var outcome = await _harness.RunAsync(RequestKind.Request, "", "SELECT 1");
        Assert.Single(outcome.Results);
    }

    [Fact]
    public async Task Level_none_with_freshness_lets_a_read_use_a_cached_copy_but_writes_always_revalidate()
    {
        await _harness.RunAsync(RequestKind.Query, new RequestFlags { Level = ConsistencyLevel.None, Freshness = TimeSpan.FromSeconds(5) }, "SELECT 1");
        await _harness.RunAsync(RequestKind.Query, new RequestFlags { Level = ConsistencyLevel.Strong }, "SELECT 1");
        await _harness.RunAsync(RequestKind.Execute, new RequestFlags { Level = ConsistencyLevel.None, Freshness = TimeSpan.FromSeconds(5) }, "CREATE TABLE t(a)");
        Assert.Equal(TimeSpan.FromSeconds(5), _harness.Store.ReadStaleness[0]);
        Assert.Null(_harness.Store.ReadStaleness[1]);
        // A write classifies on the allowed copy, then reads again without staleness before it commits.
        Assert.Null(_harness.Store.ReadStaleness[^1]);
    }
}
