using ServerlessDb.Storage;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// The lease objects, and the object backend's calls on them that the lock and the reaper make: every write and
/// delete is conditional. One attempt each; the callers retry. Failures are the backend's
/// <see cref="ObjectBackendException"/>, read by the predicates below.
/// </summary>
internal sealed class LeaseObjects(IObjectBackend objects)
{
    // A lease is a few hundred bytes; anything much larger was not written by a writer.
    private const int MaxLeaseBytes = 4096;

    private static readonly ObjectMetadata LeaseMetadata = new("application/json");

    /// <summary>Creates the lease at <paramref name="key"/> only if no object is there (<c>If-None-Match: *</c>); returns its ETag.</summary>
    public async Task<string> CreateAsync(string key, Lease lease, CancellationToken cancellationToken) =>
        (await objects.PutAsync(key, ObjectBody.Of(lease.ToJson()), PutCondition.IfNoneExists, LeaseMetadata, cancellationToken)).ETag;

    /// <summary>Overwrites the lease at <paramref name="key"/> only if it is still the version <paramref name="etag"/> (<c>If-Match</c>); returns the new ETag.</summary>
    public async Task<string> ReplaceAsync(string key, Lease lease, string etag, CancellationToken cancellationToken) =>
        (await objects.PutAsync(key, ObjectBody.Of(lease.ToJson()), PutCondition.IfMatch(etag), LeaseMetadata, cancellationToken)).ETag;

    /// <summary>The lease at <paramref name="key"/> and its ETag, or null when there is none.</summary>
    public async Task<StoredLease?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        if (await objects.GetSmallAsync(key, ObjectSelector.Current, MaxLeaseBytes, cancellationToken) is not { } stored)
        {
            return null;
        }

        var lease = stored.IsWhole ? Lease.TryParse(stored.Content) : null;
        return new StoredLease(key, stored.Info.ETag, lease, stored.Info.LastModified);
    }

    /// <summary>Deletes the lease at <paramref name="key"/> only if it is still the version <paramref name="etag"/> (<c>If-Match</c>).</summary>
    public Task DeleteAsync(string key, string etag, CancellationToken cancellationToken) =>
        objects.DeleteAsync(key, etag, versionId: null, cancellationToken);

    /// <summary>One page of the keys under <paramref name="folder"/>.</summary>
    public Task<ObjectListing> ListAsync(string folder, string? continuation, CancellationToken cancellationToken) =>
        objects.ListAsync(new ListRequest(folder, Continuation: continuation), cancellationToken);

    /// <summary>
    /// The condition of a write or delete did not hold: the key exists (for <c>If-None-Match: *</c>), or is no longer the
    /// ETag given or is gone (for <c>If-Match</c>).
    /// </summary>
    public static bool IsConditionFailed(Exception exception) =>
        exception is ObjectBackendException { Failure: ObjectBackendFailure.ConditionFailed };

    /// <summary>409 ConditionalRequestConflict: another conditional write on the key is under way; S3 asks for a retry.</summary>
    public static bool IsConflict(Exception exception) =>
        exception is ObjectBackendException { Failure: ObjectBackendFailure.Conflict };

    public string Describe(string key) => objects.Describe(key);
}

/// <summary>A lease object as read: its key, its ETag, what it says (null when unreadable), and when S3 stored it.</summary>
internal sealed record StoredLease(string Key, string ETag, Lease? Lease, DateTimeOffset LastModified)
{
    /// <summary>
    /// When the lease ends: as it says, or for an unreadable one (written by hand, truncated) by S3's
    /// clock, <paramref name="staleAfter"/> after it was stored, so a garbled lease cannot lock its database forever.
    /// </summary>
    public DateTimeOffset ExpiresAt(TimeSpan staleAfter) => Lease?.ExpiresAt ?? LastModified + staleAfter;
}
