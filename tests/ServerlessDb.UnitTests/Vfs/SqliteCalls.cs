using Microsoft.Data.Sqlite;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>The few Microsoft.Data.Sqlite calls the VFS tests make (open, one row, one value) and the result codes they expect.</summary>
internal static class SqliteCalls
{
    public const int SqliteReadOnly = 8;
    public const int SqliteIoError = 10;
    public const int SqliteCantOpen = 14;

    public static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>The first row <paramref name="sql"/> returns on a connection of its own; no row fails the test.</summary>
    public static object?[] QueryRow(string connectionString, string sql)
    {
        using var connection = Open(connectionString);
        return QueryRow(connection, sql);
    }

    /// <summary>The first row <paramref name="sql"/> returns; no row fails the test.</summary>
    public static object?[] QueryRow(SqliteConnection connection, string sql)
    {
        using var command = new SqliteCommand(sql, connection);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read(), "no row: " + sql);
        var row = new object?[reader.FieldCount];
        reader.GetValues(row!);
        return row;
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = new SqliteCommand(sql, connection);
        return command.ExecuteScalar();
    }
}
