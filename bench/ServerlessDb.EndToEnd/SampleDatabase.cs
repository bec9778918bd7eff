using Microsoft.Data.Sqlite;

namespace ServerlessDb.EndToEnd;

/// <summary>The database both systems serve: a small key-value table the queries touch, padded with random 1 MB blobs to its size.</summary>
internal static class SampleDatabase
{
    public static string Create(int megabytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"serverlessdb-e2e-{megabytes}mb-{Guid.NewGuid():N}.sqlite");
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Run(connection, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
        Run(connection, "CREATE TABLE pad (b BLOB)");
        Run(connection, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO kv SELECT i, 0 FROM n");
        for (var i = 0; i < megabytes; i++)
        {
            Run(connection, "INSERT INTO pad VALUES (randomblob(1000000))");
        }

        return path;
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
