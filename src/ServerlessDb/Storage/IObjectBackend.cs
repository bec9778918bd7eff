namespace ServerlessDb.Storage;

/// <summary>
/// A thin object backend, the one thing a place that keeps objects implements (S3, a local folder, memory in tests):
/// the few calls on a bucket's objects that the store, the chunk collector and the lease lock make. Each call is ONE
/// request, its answer read once, in the backend, into this port's outcomes: a value, null or
/// <see cref="ObjectRead.Missing"/> for an object that is not there, or an <see cref="ObjectBackendException"/> whose
/// <see cref="ObjectBackendFailure"/> says what happened. No retries here: the callers run their retry around these
/// calls, each with its own deadline (a lock acquisition cuts only the waits, the store cuts attempts, a release runs
/// until its request's time is up), which retries inside a backend would stack. The caller's own cancellation and
/// bugs pass through as they are; a body that breaks while it is read throws the transport's own network exception.
/// </summary>
/// <remarks>
/// Versions: a backend that keeps versions (S3 with bucket versioning, the local folder) gives every put a version id
/// and keeps what a put or delete replaced, readable and deletable by that id; one that does not answers
/// <see cref="ObjectVersioning.Enabled"/> false and null version ids. Links are a separate, optional capability
/// (<see cref="IObjectLinks"/>).
/// </remarks>
internal interface IObjectBackend
{
    /// <summary>The backend as messages name it: "S3", "the data folder".</summary>
    string Name { get; }

    /// <summary>Where <paramref name="key"/> lives, as messages name it (<c>s3://bucket/key</c>, a file's path).</summary>
    string Describe(string key);

    /// <summary>Whether replaced objects are kept as versions, and the backend's word for it (S3's versioning status).</summary>
    Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What is stored at <paramref name="key"/> (the version <see cref="ObjectSelector.VersionId"/> when given), without its
    /// bytes; null when there is no such object.
    /// </summary>
    /// <exception cref="ObjectBackendException">
    /// <see cref="ObjectBackendFailure.ConditionFailed"/> when <see cref="ObjectSelector.IfMatch"/> does not hold;
    /// <see cref="ObjectBackendFailure.NoSuchVersion"/> when the version asked for is not there (with the backend's words for why).
    /// </exception>
    Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the object at <paramref name="key"/> (a version, a byte range, conditions: see <see cref="ObjectSelector"/>)
    /// for reading as a stream: <see cref="ObjectRead.Missing"/> when there is no such object,
    /// <see cref="ObjectRead.NotModified"/> when <see cref="ObjectSelector.IfNoneMatch"/> names it. The caller disposes the read.
    /// </summary>
    /// <exception cref="ObjectBackendException">
    /// <see cref="ObjectBackendFailure.ConditionFailed"/> when <see cref="ObjectSelector.IfMatch"/> does not hold;
    /// <see cref="ObjectBackendFailure.NoSuchVersion"/> when the version asked for is not there.
    /// </exception>
    Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="body"/> at <paramref name="key"/> if <paramref name="condition"/> holds, atomically; returns the new ETag and version id.</summary>
    /// <exception cref="ObjectBackendException">
    /// <see cref="ObjectBackendFailure.ConditionFailed"/> when the key exists (<see cref="PutCondition.IfNoneExists"/>) or is no longer
    /// that ETag or is gone (<see cref="PutCondition.IfMatch"/>); <see cref="ObjectBackendFailure.Conflict"/> when another conditional
    /// write on the key was under way; and the failures every call may have (bytes that differ from
    /// <see cref="ObjectBody.Crc32"/> are refused, and nothing is stored).
    /// </exception>
    Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the object at <paramref name="key"/>: only if it is still the ETag <paramref name="ifMatch"/> when given (else
    /// <see cref="ObjectBackendFailure.ConditionFailed"/>, the object gone included); the version <paramref name="versionId"/>
    /// itself when given (its bytes go, not only the current object); without either, a missing object is no failure.
    /// </summary>
    Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken);

    /// <summary>Deletes each of <paramref name="versions"/> by key and version id (in batches where the backend can); returns those that failed, with why.</summary>
    Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken);

    /// <summary>One page of the objects under a prefix, in key order (see <see cref="ListRequest"/>).</summary>
    Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken);

    /// <summary>One page of the versions (and deletion markers) under a prefix: keys in order, each key's newest first.</summary>
    /// <exception cref="ObjectBackendException"><see cref="ObjectBackendFailure.InvalidArgument"/> for a marker the backend cannot read.</exception>
    Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Time-limited links to objects, which clients use without credentials of their own: a backend offers them where it can
/// (S3's presigned URLs). A backend without them offers no links, and the features that need them are absent.
/// </summary>
internal interface IObjectLinks
{
    /// <summary>A GET of <paramref name="key"/> (its version <paramref name="versionId"/> when given) that works until <paramref name="expiresAt"/>.</summary>
    Task<Uri> LinkToGetAsync(string key, string? versionId, DateTimeOffset expiresAt);

    /// <summary>A PUT to <paramref name="key"/> that works until <paramref name="expiresAt"/>.</summary>
    Task<Uri> LinkToPutAsync(string key, DateTimeOffset expiresAt);
}
