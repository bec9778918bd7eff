using Microsoft.Data.Sqlite;

namespace ServerlessDb.UnitTests.Support;

/// <summary>A real SQLite file in a temporary folder, deleted on dispose.</summary>
public sealed class TempDatabase : IDisposable
{
    public TempDatabase(params string[] setupSql)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("serverlessdb-test-").FullName;
        FilePath = Path.Combine(Directory, "test.sqlite");
        File.WriteAllBytes(FilePath, []);
        if (setupSql.Length > 0)
        {
            using var connection = new SqliteConnection($"Data Source={FilePath};Pooling=False");
            connection.Open();
            foreach (var sql in setupSql)
            {
                using var command = new SqliteCommand(sql, connection);
                command.ExecuteNonQuery();
            }
        }
    }

    public string Directory { get; }

    public string FilePath { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
