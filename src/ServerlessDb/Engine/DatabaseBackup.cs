using System.IO.Compression;
using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// A backup ready to send: a local file of <see cref="Length"/> bytes, taken from <see cref="Version"/>.
/// When <see cref="IsStoredObject"/> the file is the snapshot itself, byte for byte the stored object,
/// so a client may be sent to the store for it instead. Dispose it when sent: it releases the snapshot
/// and deletes a generated file.
/// </summary>
internal sealed class BackupFile : IDisposable
{
    private readonly DatabaseSnapshot _snapshot;
    private readonly string? _generated;

    public BackupFile(DatabaseSnapshot snapshot, string? generated)
    {
        _snapshot = snapshot;
        _generated = generated;
        Path = generated ?? snapshot.FilePath;
        Length = new FileInfo(Path).Length;
    }

    public string Path { get; }

    public long Length { get; }

    public DatabaseETag Version => _snapshot.ETag;

    /// <summary>The store's history id of the version, when it is an old one read by id (time travel); null for the current one.</summary>
    public string? VersionId => _snapshot.VersionId;

    public bool IsStoredObject => _generated is null && _snapshot.IsStoredObject;

    /// <summary>The file is the snapshot of a version stored in chunks: the database file itself, though no stored object holds it whole.</summary>
    public bool IsAssembledFile => _generated is null && _snapshot.ETag.Exists && !_snapshot.IsStoredObject;

    public void Dispose()
    {
        if (_generated is not null)
        {
            File.Delete(_generated);
        }

        _snapshot.Dispose();
    }
}

/// <summary>
/// Takes backups on the read path: a snapshot from the store (never the lock), and for a dump a
/// read-only connection to it. A database that does not exist is backed up as the empty database
/// it reads as: an empty file (which SQLite opens as an empty database) or an empty dump.
/// </summary>
internal static class DatabaseBackups
{
    private const int FileBufferSize = 81920;

    // GZipStream writes nothing at all for empty input, and nothing is not a gzip stream (gunzip refuses it).
    // The gzip of nothing: the header, an empty final deflate block, and a CRC32 and length of zero.
    private static readonly byte[] EmptyGzip = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>Writes the backup <paramref name="request"/> asks for of <paramref name="snapshot"/>; the result owns the snapshot.</summary>
    public static BackupFile Take(DatabaseSnapshot snapshot, BackupRequest request, WorkingCopies scratch)
    {
        if (request.Format == BackupFormat.Binary && !request.Compress)
        {
            return new BackupFile(snapshot, generated: null);
        }

        var path = scratch.NewScratchPath(request.Format == BackupFormat.Sql ? ".sql" : ".sqlite");
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferSize))
            using (var output = request.Compress ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file)
            {
                if (request.Format == BackupFormat.Sql)
                {
                    using var writer = new StreamWriter(output, new UTF8Encoding(false), FileBufferSize, leaveOpen: true) { NewLine = "\n" };
                    using var session = SqliteSession.OpenReadOnly(snapshot.FilePath);
                    SqlDump.Write(session, request.Tables, writer);
                }
                else
                {
                    using var source = new FileStream(snapshot.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferSize, FileOptions.SequentialScan);
                    source.CopyTo(output);
                }
            }

            if (request.Compress && new FileInfo(path).Length == 0)
            {
                File.WriteAllBytes(path, EmptyGzip);
            }

            return new BackupFile(snapshot, path);
        }
        catch
        {
            File.Delete(path);
            snapshot.Dispose();
            throw;
        }
    }
}

/// <summary>
/// rqlite's SQL dump (its <c>db.Dump</c>): <c>PRAGMA foreign_keys=OFF;</c>, <c>BEGIN TRANSACTION;</c>, each
/// table's schema and its rows as <c>INSERT INTO "t" VALUES(...)</c> with SQLite's <c>quote()</c>, then the
/// indexes, triggers and views, then <c>COMMIT;</c>, one statement a line.
/// </summary>
internal static class SqlDump
{
    public static void Write(SqliteSession session, IReadOnlyList<string> tables, TextWriter writer)
    {
        writer.Write("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n");
        foreach (var (table, sql) in Tables(session, tables))
        {
            string statement;
            if (table == "sqlite_sequence")
            {
                statement = "DELETE FROM \"sqlite_sequence\";";
            }
            else if (table == "sqlite_stat1")
            {
                statement = "ANALYZE \"sqlite_master\";";
            }
            else if (table.StartsWith("sqlite_", StringComparison.Ordinal))
            {
                continue;
            }
            else
            {
                statement = sql + ";";
            }

            writer.Write(statement + "\n");
            var quoted = table.Replace("\"", "\"\"", StringComparison.Ordinal);
            var columns = new List<string>();
            session.Query($"SELECT name FROM pragma_table_info('{table.Replace("'", "''", StringComparison.Ordinal)}')", name => columns.Add($"'||quote(\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\")||'"));
            session.Query(
                $"SELECT 'INSERT INTO \"{quoted.Replace("'", "''", StringComparison.Ordinal)}\" VALUES({string.Join(",", columns)})' FROM \"{quoted}\"",
                row => writer.Write(row + ";\n"));
        }

        session.Query(
            "SELECT sql FROM sqlite_master WHERE sql NOT NULL AND type IN ('index', 'trigger', 'view')",
            sql => writer.Write(sql + ";\n"));
        writer.Write("COMMIT;\n");
    }

    private static List<(string Name, string Sql)> Tables(SqliteSession session, IReadOnlyList<string> only)
    {
        var tables = new List<(string Name, string Sql)>();
        session.QueryPairs(
            "SELECT name, sql FROM sqlite_master WHERE sql NOT NULL AND type = 'table' ORDER BY name",
            (name, sql) => tables.Add((name, sql)));
        return only.Count == 0 ? tables : tables.Where(t => only.Contains(t.Name, StringComparer.Ordinal)).ToList();
    }
}
