using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// One SQLite connection for one request, with the sandbox installed and a deadline that interrupts
/// a statement running past it.
/// </summary>
internal sealed class SqliteSession : IDisposable
{
    private const int ProgressInterval = 1000;
    private const int DbConfigDqsDml = 1013;
    private const int DbConfigDqsDdl = 1014;

    /// <summary>
    /// The largest string or BLOB a statement may build. SQLite's default (1 GB) lets one
    /// <c>randomblob(1e9)</c> exhaust a Lambda's memory.
    /// </summary>
    public const int MaxValueBytes = 128 * 1024 * 1024;

    private readonly SqliteConnection _connection;
    private readonly delegate_progress _progress;
    private long _deadline = long.MaxValue;

    private SqliteSession(SqliteConnection connection, bool readOnly)
    {
        _connection = connection;
        ReadOnly = readOnly;
        Sandbox = SqliteSandbox.Install(Handle);
        AcceptDoubleQuotedStrings(Handle);
        raw.sqlite3_limit(Handle, raw.SQLITE_LIMIT_LENGTH, MaxValueBytes);
        _progress = _ => Stopwatch.GetTimestamp() > _deadline ? 1 : 0;
        raw.sqlite3_progress_handler(Handle, ProgressInterval, _progress, null);
    }

    public sqlite3 Handle => _connection.Handle!;

    public SqliteSandbox Sandbox { get; }

    public bool ReadOnly { get; }

    /// <summary>True when the last interruption came from the deadline.</summary>
    public bool DeadlinePassed => Stopwatch.GetTimestamp() > _deadline;

    /// <summary>
    /// Opens an immutable snapshot file read-only. immutable=1 also lets SQLite read a file whose header
    /// says WAL without creating -wal or -shm files beside it.
    /// </summary>
    public static SqliteSession OpenReadOnly(string path) =>
        Open($"file:{Uri.EscapeDataString(Path.GetFullPath(path)).Replace("%2F", "/", StringComparison.Ordinal)}?immutable=1", SqliteOpenMode.ReadOnly);

    /// <summary>Opens what <paramref name="read"/> reads, read-only: its local file, or its pinned version through the lazy VFS.</summary>
    public static SqliteSession OpenReadOnly(DatabaseRead read) =>
        read.Lease is { } lease ? Open(lease.DataSource, SqliteOpenMode.ReadOnly) : OpenReadOnly(read.Snapshot!.FilePath);

    /// <summary>
    /// Opens a private working copy. Durability comes from the upload, not from this file, so the
    /// journal lives in memory and nothing is synced; a WAL header is turned back into rollback mode
    /// so the uploaded file is complete on its own.
    /// </summary>
    public static SqliteSession OpenWorkingCopy(string path)
    {
        var session = Open(path, SqliteOpenMode.ReadWrite);
        try
        {
            session.Control("PRAGMA journal_mode=MEMORY");
            session.Control("PRAGMA synchronous=OFF");
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// rqlite's SQLite is built with SQLite's default (SQLITE_DQS=3): a double-quoted word that names no
    /// column is a string literal, so <c>INSERT INTO foo(name) VALUES("fiona")</c> works, in DML and DDL.
    /// The bundled e_sqlite3 is built with SQLITE_DQS=0, so every session (classification, reads,
    /// writes) turns both back on; classification must prepare what execution runs.
    /// </summary>
    private static void AcceptDoubleQuotedStrings(sqlite3 db)
    {
        foreach (var option in (ReadOnlySpan<int>)[DbConfigDqsDml, DbConfigDqsDdl])
        {
            var rc = raw.sqlite3_db_config(db, option, 1, out var enabled);
            if (rc != raw.SQLITE_OK || enabled != 1)
            {
                throw new SqliteException($"SQLite Error {rc}: could not enable double-quoted string literals (db_config {option})", rc);
            }
        }
    }

    public void SetDeadline(TimeSpan? remaining) =>
        _deadline = remaining is { } r ? Stopwatch.GetTimestamp() + (long)(r.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

    /// <summary>Runs the service's own SQL (transaction control, pragmas), which the sandbox does not judge.</summary>
    public void Control(string sql) => Unjudged(() =>
    {
        var rc = raw.sqlite3_exec(Handle, sql, out var error);
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException($"SQLite Error {rc}: '{error}' running {sql}", rc);
        }
    });

    /// <summary>Runs the service's own single-column query and hands each row's text to <paramref name="row"/>.</summary>
    public void Query(string sql, Action<string> row) => Unjudged(() =>
    {
        using var command = new SqliteCommand(sql, _connection);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader.GetString(0));
        }
    });

    /// <summary>Runs the service's own two-column query and hands each row's two texts to <paramref name="row"/>.</summary>
    public void QueryPairs(string sql, Action<string, string> row) => Unjudged(() =>
    {
        using var command = new SqliteCommand(sql, _connection);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader.GetString(0), reader.GetString(1));
        }
    });

    /// <summary>Runs the service's own statement with parameters, which the sandbox does not judge.</summary>
    public void Execute(string sql, params (string Name, object? Value)[] parameters) =>
        Unjudged(() =>
        {
            using var command = Command(sql, parameters);
            command.ExecuteNonQuery();
        });

    /// <summary>The first row of the service's own query, or null when it has none.</summary>
    public object?[]? QueryRow(string sql, params (string Name, object? Value)[] parameters) =>
        Unjudged(() =>
        {
            using var command = Command(sql, parameters);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            return row;
        });

    public bool TableExists(string name) =>
        QueryRow("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = $name", ("$name", name)) is not null;

    public bool InTransaction => raw.sqlite3_get_autocommit(Handle) == 0;

    private SqliteCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = new SqliteCommand(sql, _connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private T Unjudged<T>(Func<T> action)
    {
        var enforcing = Sandbox.Enforcing;
        Sandbox.Enforcing = false;
        try
        {
            return action();
        }
        finally
        {
            Sandbox.Enforcing = enforcing;
        }
    }

    private void Unjudged(Action action) => Unjudged(() =>
    {
        action();
        return 0;
    });

    public void Dispose()
    {
        raw.sqlite3_progress_handler(Handle, 0, null, null);
        _connection.Dispose();
    }

    private static SqliteSession Open(string dataSource, SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = dataSource,
            Mode = mode,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            return new SqliteSession(connection, mode == SqliteOpenMode.ReadOnly);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
