using Microsoft.Data.Sqlite;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>
/// A SQLite file of about 100 MB made once for the lazy VFS tests: <c>items(id, name, payload)</c> with 200,000
/// rows of a 480-byte random payload, and an index on <c>name</c> built after the rows, so the index sits at the end
/// of the file and a lookup by name lands on a table page anywhere in it.
/// </summary>
public sealed class SampleDatabase : IDisposable
{
    public const int Rows = 200_000;

    public SampleDatabase()
    {
        Folder = Directory.CreateTempSubdirectory("serverlessdb-vfs-").FullName;
        FilePath = Path.Combine(Folder, "sample.sqlite");
        Build(FilePath,
            "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL)",
            // 7919 is prime and does not divide Rows, so the names are a permutation of 0..Rows-1, unrelated to ids.
            $"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {Rows}) " +
            $"INSERT INTO items SELECT i, printf('name-%08d', (i * 7919) % {Rows}), randomblob(480) FROM n",
            "CREATE INDEX items_by_name ON items(name)");
    }

    public string Folder { get; }

    public string FilePath { get; }

    /// <summary>A new database file at <paramref name="path"/> made by <paramref name="sql"/>, with no journal (nothing here needs one).</summary>
    public static void Build(string path, params string[] sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        foreach (var statement in (string[])["PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", .. sql])
        {
            using var command = new SqliteCommand(statement, connection);
            command.ExecuteNonQuery();
        }
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
