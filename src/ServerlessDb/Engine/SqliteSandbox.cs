using SQLitePCL;

namespace ServerlessDb.Engine;

/// <summary>
/// The SQLite authorizer that keeps user SQL inside its own database. It is consulted while a
/// statement is prepared; when it denies, the prepare fails and <see cref="TakeViolation"/> says why.
/// </summary>
/// <remarks>
/// sqlite3_stmt_readonly is true for BEGIN and ATTACH, so these are refused here rather than by the
/// read/write test. VACUUM INTO reaches the authorizer as an ATTACH of its target file, so denying
/// ATTACH also stops it from writing files, even on a read-only connection. Plain VACUUM attaches a
/// private temporary database (an empty file name) inside a transaction of its own while it runs;
/// those are allowed, because it only rebuilds the request's own file, which a whole-file upload
/// wants compact.
/// </remarks>
internal sealed class SqliteSandbox
{
    private const int DbConfigDefensive = 1010;
    private const int DbConfigTrustedSchema = 1017;

    private static readonly HashSet<string> ManagedPragmas = new(StringComparer.OrdinalIgnoreCase)
    {
        "journal_mode", "locking_mode", "writable_schema", "mmap_size", "schema_version",
        "temp_store_directory", "data_store_directory", "hard_heap_limit", "soft_heap_limit",
        "wal_autocheckpoint", "wal_checkpoint", "trusted_schema",
    };

    private static readonly HashSet<string> DeniedFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "load_extension", "fts3_tokenizer",
    };

    private readonly delegate_authorizer _callback;
    private string? _violation;

    private SqliteSandbox()
    {
        _callback = Authorize;
    }

    /// <summary>True except while the service runs its own statements (<see cref="SqliteSession.Control"/>).</summary>
    public bool Enforcing { get; set; } = true;

    /// <summary>
    /// Lets user SQL create and change the service's own tables (<c>_serverlessdb_*</c>): only while a load builds
    /// a database from a dump, which carries them as a binary load would.
    /// </summary>
    public bool ServiceTablesWritable { get; set; }

    /// <summary>
    /// True while a prepared user statement runs (sqlite3_step), as opposed to being prepared: user SQL
    /// is judged when it is prepared, so what the authorizer sees only while stepping is SQLite's own
    /// work on behalf of an allowed statement.
    /// </summary>
    public bool Stepping { get; set; }

    public static SqliteSandbox Install(sqlite3 db)
    {
        var sandbox = new SqliteSandbox();
        Check(db, raw.sqlite3_db_config(db, DbConfigDefensive, 1, out _), "enable defensive mode");
        Check(db, raw.sqlite3_db_config(db, DbConfigTrustedSchema, 0, out _), "distrust the schema");
        Check(db, raw.sqlite3_set_authorizer(db, sandbox._callback, null), "install the authorizer");
        return sandbox;
    }

    /// <summary>Returns and clears the reason for the last refusal, if any.</summary>
    public string? TakeViolation()
    {
        var violation = _violation;
        _violation = null;
        return violation;
    }

    private int Authorize(object userData, int actionCode, utf8z param0, utf8z param1, utf8z dbName, utf8z trigger)
    {
        if (!Enforcing)
        {
            return raw.SQLITE_OK;
        }

        var refusal = actionCode switch
        {
            // Plain VACUUM's own work while it runs: a temporary database (an empty file name) in a transaction.
            raw.SQLITE_ATTACH when Stepping && param0.utf8_to_string() is "" => null,
            raw.SQLITE_DETACH or raw.SQLITE_TRANSACTION when Stepping => null,
            raw.SQLITE_ATTACH or raw.SQLITE_DETACH => EngineMessages.Attach,
            raw.SQLITE_TRANSACTION or raw.SQLITE_SAVEPOINT => EngineMessages.TransactionControl,
            raw.SQLITE_FUNCTION when DeniedFunctions.Contains(param1.utf8_to_string()) =>
                EngineMessages.Function(param1.utf8_to_string()),
            raw.SQLITE_PRAGMA when ManagedPragmas.Contains(param0.utf8_to_string()) && IsAssignment(param0, param1) =>
                EngineMessages.Pragma(param0.utf8_to_string()),
            _ when !Stepping && !ServiceTablesWritable && ChangesSchemaOrRows(actionCode) && (IsReserved(param0) || IsReserved(param1)) =>
                EngineMessages.Reserved(IdempotencyRecords.ReservedPrefix),
            _ => null,
        };

        if (refusal is null)
        {
            return raw.SQLITE_OK;
        }

        _violation ??= refusal;
        return raw.SQLITE_DENY;
    }

    // The service's own tables may be read, never changed (the idempotency records vouch for past writes).
    private static bool ChangesSchemaOrRows(int actionCode) => actionCode is raw.SQLITE_INSERT or raw.SQLITE_UPDATE or raw.SQLITE_DELETE
        or raw.SQLITE_CREATE_TABLE or raw.SQLITE_CREATE_TEMP_TABLE or raw.SQLITE_CREATE_INDEX or raw.SQLITE_CREATE_TEMP_INDEX
        or raw.SQLITE_CREATE_TRIGGER or raw.SQLITE_CREATE_TEMP_TRIGGER or raw.SQLITE_CREATE_VIEW or raw.SQLITE_CREATE_TEMP_VIEW
        or raw.SQLITE_DROP_TABLE or raw.SQLITE_DROP_TEMP_TABLE or raw.SQLITE_DROP_INDEX or raw.SQLITE_DROP_TEMP_INDEX
        or raw.SQLITE_DROP_TRIGGER or raw.SQLITE_DROP_TEMP_TRIGGER or raw.SQLITE_DROP_VIEW or raw.SQLITE_DROP_TEMP_VIEW
        or raw.SQLITE_ALTER_TABLE or raw.SQLITE_CREATE_VTABLE or raw.SQLITE_DROP_VTABLE;

    private static bool IsReserved(utf8z name) =>
        name.utf8_to_string()?.StartsWith(IdempotencyRecords.ReservedPrefix, StringComparison.OrdinalIgnoreCase) == true;

    // Reading these pragmas is harmless; wal_checkpoint has effects even without an argument.
    private static bool IsAssignment(utf8z name, utf8z value) =>
        value.utf8_to_string() is not null || name.utf8_to_string().Equals("wal_checkpoint", StringComparison.OrdinalIgnoreCase);

    private static void Check(sqlite3 db, int rc, string what)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new InvalidOperationException($"Could not {what}: {raw.sqlite3_errmsg(db).utf8_to_string()} ({rc}).");
        }
    }
}
