using Microsoft.Data.Sqlite;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>The bytes of a stored or answered database file, opened as SQLite for assertions.</summary>
public static class DatabaseFiles
{
    /// <summary>Opens <paramref name="bytes"/> as a SQLite database: integrity_check must be ok; returns what <paramref name="sql"/> answers.</summary>
    public static object? Query(byte[] bytes, string sql)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using (var check = new SqliteCommand("PRAGMA integrity_check", connection))
            {
                Assert.Equal("ok", check.ExecuteScalar());
            }

            using var command = new SqliteCommand(sql, connection);
            return command.ExecuteScalar();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
