using BenchmarkDotNet.Attributes;
using ServerlessDb.Domain;
using ServerlessDb.Engine;

namespace ServerlessDb.Benchmarks;

/// <summary>
/// The SQLite side of a request on a 10,000-row database: opening the snapshot read-only,
/// classifying statements with sqlite3_stmt_readonly, and running a query to rows.
/// </summary>
[MemoryDiagnoser]
public class SqliteBenchmarks
{
    private static readonly Statement[] Mixed =
    [
        new("SELECT * FROM users WHERE id = 1"),
        new("UPDATE users SET age = age + 1 WHERE id = 2"),
        new("WITH x AS (SELECT 1) SELECT * FROM x"),
        new("INSERT INTO users(name) VALUES ('x')"),
    ];

    private SampleDatabase _database = null!;

    [GlobalSetup]
    public void Setup() => _database = new SampleDatabase(10_000);

    [GlobalCleanup]
    public void Cleanup() => _database.Dispose();

    [Benchmark]
    public void OpenReadOnlySession()
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
    }

    [Benchmark]
    public int OpenAndClassifyFourStatements()
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        return StatementClassifier.ClassifyAll(session, Mixed).Count(c => c.Kind == StatementKind.Write);
    }

    [Benchmark]
    [Arguments(1)]
    [Arguments(100)]
    [Arguments(1000)]
    public int QueryRows(int rows)
    {
        using var session = SqliteSession.OpenReadOnly(_database.FilePath);
        var executor = new StatementExecutor(session, new ResultBudget(64 << 20), readsReturnNoRows: false, null, () => TimeSpan.FromMinutes(1));
        var result = (RowsResult)executor.Execute(new Statement($"SELECT * FROM users ORDER BY id LIMIT {rows}"));
        return result.Rows.Count;
    }
}
