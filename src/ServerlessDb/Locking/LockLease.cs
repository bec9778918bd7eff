namespace ServerlessDb.Locking;

/// <summary>
/// Proof that a writer holds the write lock of one database. <paramref name="Token"/> is what the
/// lock needs to release it (for the security-group lock, the group id).
/// </summary>
public sealed record LockLease(string Database, string Holder, string Token, DateTimeOffset AcquiredAt);
