namespace ServerlessDb.Storage;

/// <summary>
/// A thin object backend: the few calls on a bucket's objects that the components above make, each ONE request
/// with S3's answers read once, in the backend, into this port's outcomes: a value, null for a missing object, or an
/// <see cref="ObjectBackendException"/> whose <see cref="ObjectBackendFailure"/> says what happened. No retries here:
/// the callers run their retry around these calls, each with its own deadline (a lock acquisition cuts only the
/// waits, the store cuts attempts, a release runs until its request's time is up), which retries inside a backend
/// would stack. Named a backend, not a store, because "the store" is <see cref="IDatabaseStore"/>, which will stand
/// on this port. The caller's own cancellation and bugs pass through as they are.
/// </summary>
/// <remarks>
/// Next, as the store moves onto this port: a get by byte range and by version id (and If-None-Match, answered
/// "not modified"), a head, a listing of versions, a delete by version id, a body streamed to and from a file, and
/// presigned links as a separate optional capability.
/// </remarks>
internal interface IObjectBackend
{
    /// <summary>Where <paramref name="key"/> lives, as messages name it (<c>s3://bucket/key</c>).</summary>
    string Describe(string key);

    /// <summary>Writes <paramref name="content"/> at <paramref name="key"/> if <paramref name="condition"/> holds, atomically; returns the new ETag.</summary>
    /// <exception cref="ObjectBackendException">
    /// <see cref="ObjectBackendFailure.ConditionFailed"/> when the key exists (<see cref="PutCondition.IfNoneExists"/>) or is no longer
    /// that ETag or is gone (<see cref="PutCondition.IfMatch"/>); <see cref="ObjectBackendFailure.Conflict"/> when another conditional
    /// write on the key was under way; and the failures every call may have.
    /// </exception>
    Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken);

    /// <summary>The object at <paramref name="key"/>, of which at most <paramref name="maxBytes"/> are read; null when there is none.</summary>
    Task<StoredObject?> GetAsync(string key, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the object at <paramref name="key"/>: only if it is still the version <paramref name="ifMatch"/> when given
    /// (else <see cref="ObjectBackendFailure.ConditionFailed"/>, the object gone included); without it, a missing object is no failure.
    /// </summary>
    Task DeleteAsync(string key, string? ifMatch, CancellationToken cancellationToken);

    /// <summary>One page of the keys starting with <paramref name="prefix"/>, in key order; <paramref name="continuation"/> is the previous page's.</summary>
    Task<ObjectListing> ListAsync(string prefix, string? continuation, CancellationToken cancellationToken);
}
