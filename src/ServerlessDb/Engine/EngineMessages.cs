
namespace ServerlessDb.Engine;

/// <summary>Why the engine refused a statement, in words a user can act on.</summary>
internal static class EngineMessages
{
    public const string AttemptToChangeViaQuery = "attempt to change database via query operation";

    public const string WriteOnOldVersion =
        "as_of and version read an old version, and this request writes: nothing was run; to make an old version current, POST /db/restore";

    public const string Attach =
        "ATTACH, DETACH and VACUUM INTO are not allowed: a request works on its own database only";

    public const string TransactionControl =
        "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not allowed: each request is one transaction; add ?transaction to make it all-or-nothing";

    public static string Function(string name) => $"the SQL function {name}() is not allowed";

    public static string Pragma(string name) => $"PRAGMA {name} cannot be changed: the service manages it";

    public static string Reserved(string prefix) =>
        $"tables, indexes, triggers and views named {prefix}* belong to the service (they record idempotent writes): they can be read, not changed";
}
