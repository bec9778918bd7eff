using ServerlessDb.Domain;
using ServerlessDb.Engine;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Engine;

public sealed class StatementClassifierTests : IDisposable
{
    private readonly TempDatabase _database = new(
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)",
        "CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT)",
        "INSERT INTO users(name) VALUES ('fiona')");

    public void Dispose() => _database.Dispose();

    private StatementKind Classify(string sql)
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        return StatementClassifier.Classify(session, new Statement(sql)).Kind;
    }

    [Theory]
    [InlineData("SELECT * FROM users")]
    [InlineData("select count(*) from users where name = 'DELETE FROM users'")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x")]
    [InlineData("PRAGMA user_version")]
    [InlineData("PRAGMA table_info(users)")]
    [InlineData("EXPLAIN QUERY PLAN SELECT * FROM users")]
    [InlineData("/* DROP TABLE users */ SELECT 1")]
    [InlineData("-- INSERT INTO users VALUES (2, 'x')\nSELECT 1")]
    [InlineData("SELECT 1; SELECT 2")]
    public void Reads_are_read_only(string sql) => Assert.Equal(StatementKind.ReadOnly, Classify(sql));

    [Theory]
    [InlineData("DELETE FROM users")]
    [InlineData("DROP TABLE users")]
    [InlineData("ALTER TABLE users ADD COLUMN age INTEGER")]
    [InlineData("REPLACE INTO users(id, name) VALUES (1, 'x')")]
    [InlineData("INSERT INTO users(name) VALUES ('x')")]
    [InlineData("UPDATE users SET name = 'x'")]
    [InlineData("WITH x AS (SELECT 'y' AS n) INSERT INTO users(name) SELECT n FROM x")]
    [InlineData("PRAGMA user_version = 7")]
    [InlineData("CREATE TABLE t(a)")]
    [InlineData("CREATE INDEX users_name ON users(name)")]
    [InlineData("INSERT INTO users(name) VALUES ('x') RETURNING id")]
    [InlineData("VACUUM")]
    [InlineData("SELECT 1; DELETE FROM users")]
    [InlineData("  /* leading comment */ DELETE FROM users -- trailing")]
    public void Writes_are_not_read_only(string sql) => Assert.Equal(StatementKind.Write, Classify(sql));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-- only a comment")]
    [InlineData("/* only */ ;")]
    public void Statements_without_sql_are_empty(string sql) => Assert.Equal(StatementKind.Empty, Classify(sql));

    [Fact]
    public void A_statement_on_a_table_an_earlier_statement_creates_is_unprepared_so_the_request_is_a_write()
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        var classes = StatementClassifier.ClassifyAll(session, [new Statement("CREATE TABLE later(a)"), new Statement("SELECT * FROM later")]);
        Assert.Equal(StatementKind.Write, classes[0].Kind);
        Assert.Equal(StatementKind.Unprepared, classes[1].Kind);
        Assert.Equal("no such table: later", classes[1].PrepareError);
    }

    [Fact]
    public void A_syntax_error_is_unprepared_with_sqlites_message()
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        var classification = StatementClassifier.Classify(session, new Statement("SELEC 1"));
        Assert.Equal(StatementKind.Unprepared, classification.Kind);
        Assert.Equal("near \"SELEC\": syntax error", classification.PrepareError);
    }

    [Theory]
    [InlineData("BEGIN")]
    [InlineData("BEGIN IMMEDIATE TRANSACTION")]
    [InlineData("COMMIT")]
    [InlineData("END")]
    [InlineData("ROLLBACK")]
    [InlineData("SAVEPOINT s1")]
    [InlineData("RELEASE s1")]
    [InlineData("SELECT 1; BEGIN")]
    public void Transaction_control_is_refused(string sql)
    {
        var refused = Assert.Throws<StatementRefusedException>(() => Classify(sql));
        Assert.Equal(EngineMessages.TransactionControl, refused.Message);
    }

    [Theory]
    [InlineData("ATTACH DATABASE '/tmp/other.sqlite' AS other")]
    [InlineData("ATTACH ':memory:' AS m")]
    [InlineData("DETACH DATABASE other")]
    public void Attach_is_refused(string sql)
    {
        var refused = Assert.Throws<StatementRefusedException>(() => Classify(sql));
        Assert.Equal(EngineMessages.Attach, refused.Message);
    }

    [Theory]
    [InlineData("SELECT load_extension('/tmp/evil.so')", "load_extension")]
    [InlineData("SELECT LOAD_EXTENSION('x', 'y')", "load_extension")]
    public void Load_extension_is_refused(string sql, string name)
    {
        var refused = Assert.Throws<StatementRefusedException>(() => Classify(sql));
        Assert.Equal(EngineMessages.Function(name), refused.Message);
    }

    [Theory]
    [InlineData("PRAGMA journal_mode = WAL", "journal_mode")]
    [InlineData("PRAGMA main.journal_mode = DELETE", "journal_mode")]
    [InlineData("PRAGMA writable_schema = ON", "writable_schema")]
    [InlineData("PRAGMA locking_mode = EXCLUSIVE", "locking_mode")]
    [InlineData("PRAGMA wal_checkpoint", "wal_checkpoint")]
    public void Managed_pragmas_cannot_be_changed(string sql, string name)
    {
        var refused = Assert.Throws<StatementRefusedException>(() => Classify(sql));
        Assert.Equal(EngineMessages.Pragma(name), refused.Message);
    }

    [Fact]
    public void Classification_runs_under_its_time_limit_and_clears_it_afterwards()
    {
        using var wide = new TempDatabase([.. Enumerable.Range(0, 2000).Select(i => $"CREATE TABLE t{i}(a, b, c)")]);
        using var session = SqliteSession.OpenReadOnly(wide.FilePath);

        // Loading a 2000-table schema runs thousands of SQLite instructions; a spent time limit interrupts it.
        var interrupted = StatementClassifier.ClassifyAll(session, [new Statement("SELECT * FROM t1999")], TimeSpan.Zero);
        Assert.Equal(StatementKind.Unprepared, interrupted[0].Kind);
        Assert.Equal("interrupted", interrupted[0].PrepareError);

        var classified = StatementClassifier.ClassifyAll(session, [new Statement("SELECT * FROM t1999")]);
        Assert.Equal(StatementKind.ReadOnly, classified[0].Kind);
        Assert.False(session.DeadlinePassed);
    }
}
