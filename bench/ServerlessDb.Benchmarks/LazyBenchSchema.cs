using System.Globalization;

using Microsoft.Data.Sqlite;

namespace ServerlessDb.Benchmarks;

/// <summary>
/// The lazy-read benchmark's database (bench/ServerlessDb.EndToEnd, LazyReads.cs), built here as a local file with the
/// same statements in the same order, so its pages lie as the benchmark's do: items(id, name, category, payload) with
/// 1300 random bytes of payload a row and an index on name, and the 100-row categories table the point read joins.
/// </summary>
internal static class LazyBenchSchema
{
    private const long BytesPerRow = 1390; // a 4 KiB page holds 3 rows; plus the name index's share

    /// <summary>Builds the database of about <paramref name="sizeMb"/> MB at <paramref name="path"/>; returns its rows.</summary>
    public static long Build(string path, int sizeMb)
    {
        var rows = sizeMb * 1024L * 1024 / BytesPerRow;
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        foreach (var sql in new[]
        {
            "PRAGMA journal_mode=OFF",
            "PRAGMA synchronous=OFF",
            "CREATE TABLE categories (id INTEGER PRIMARY KEY, label TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0)",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO categories (id, label) SELECT i, 'category-' || i FROM n",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category INTEGER NOT NULL, payload BLOB NOT NULL)",
            "CREATE INDEX items_name ON items (name)",
            string.Create(CultureInfo.InvariantCulture, $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) INSERT INTO items SELECT i, printf('item-%09d', i), i % 100 + 1, randomblob(1300) FROM n"),
        })
        {
            using var command = new SqliteCommand(sql, connection) { CommandTimeout = 0 };
            command.ExecuteNonQuery();
        }

        return rows;
    }

    /// <summary>The benchmark's point read: an indexed lookup by name, then the row, joined to its category.</summary>
    public static string PointRead(long id) => string.Create(CultureInfo.InvariantCulture,
        $"SELECT i.id, i.name, c.label, length(i.payload) FROM items i JOIN categories c ON c.id = i.category WHERE i.name = 'item-{id:D9}'");

    /// <summary>The benchmark's full scan.</summary>
    public const string FullScan = "SELECT sum(length(payload)) FROM items";
}
