using Microsoft.Data.Sqlite;

namespace ServerlessDb.Benchmarks;

/// <summary>A real SQLite file with <paramref name="rows"/> rows in <c>users</c>, in a temporary folder.</summary>
internal sealed class SampleDatabase : IDisposable
{
    public SampleDatabase(int rows)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("serverlessdb-bench-").FullName;
        FilePath = Path.Combine(Directory, "bench.sqlite");
        using var connection = new SqliteConnection($"Data Source={FilePath};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using (var create = new SqliteCommand("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, score REAL)", connection, transaction))
        {
            create.ExecuteNonQuery();
        }

        using var insert = new SqliteCommand("INSERT INTO users(name, age, score) VALUES ($name, $age, $score)", connection, transaction);
        var name = insert.Parameters.Add("$name", SqliteType.Text);
        var age = insert.Parameters.Add("$age", SqliteType.Integer);
        var score = insert.Parameters.Add("$score", SqliteType.Real);
        for (var i = 0; i < rows; i++)
        {
            name.Value = $"user-{i}";
            age.Value = i % 90;
            score.Value = i * 0.5;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public string Directory { get; }

    public string FilePath { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
