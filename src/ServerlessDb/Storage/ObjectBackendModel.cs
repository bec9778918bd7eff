namespace ServerlessDb.Storage;

/// <summary>When a put may write: anywhere (<see cref="Always"/>), only where no object is (<c>If-None-Match: *</c>), or only over the ETag <see cref="ETag"/> (<c>If-Match</c>).</summary>
internal sealed record PutCondition
{
    private PutCondition(string? etag, bool conditional)
    {
        ETag = etag;
        IsConditional = conditional;
    }

    public static PutCondition Always { get; } = new(null, conditional: false);

    public static PutCondition IfNoneExists { get; } = new(null, conditional: true);

    /// <summary>The ETag the object must still have; null for <see cref="IfNoneExists"/> and <see cref="Always"/>.</summary>
    public string? ETag { get; }

    public bool IsConditional { get; }

    public static PutCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(etag);
        return new PutCondition(etag, conditional: true);
    }

    public override string ToString() => !IsConditional ? "unconditional" : ETag is null ? "If-None-Match=*" : $"If-Match={ETag}";
}

/// <summary>What an object is stored with besides its bytes: its content type and the user metadata (names without <c>x-amz-meta-</c>, lower case).</summary>
internal sealed record ObjectMetadata(string ContentType, IReadOnlyDictionary<string, string> User)
{
    public ObjectMetadata(string contentType)
        : this(contentType, new Dictionary<string, string>())
    {
    }

    /// <summary>The user metadata value <paramref name="name"/> (without <c>x-amz-meta-</c>), whatever the case the backend kept it in; null when absent.</summary>
    public string? Value(string name) =>
        User.TryGetValue(name, out var value) ? value
        : User.FirstOrDefault(pair => string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>The bytes a put sends: opened afresh for each attempt (a retry sends them from the start), their length, and their CRC32 (S3's base64 form) when the caller has one, which the backend has checked before it stores anything.</summary>
internal sealed record ObjectBody(Func<Stream> Open, long Length, string? Crc32 = null)
{
    public static ObjectBody Of(ReadOnlyMemory<byte> bytes, string? crc32 = null)
    {
        var copy = bytes.ToArray();
        return new ObjectBody(() => new MemoryStream(copy, writable: false), copy.Length, crc32);
    }
}

/// <summary>What a put stored: the object's new ETag, and its version id where the backend keeps versions.</summary>
internal sealed record PutResult(string ETag, string? VersionId);

/// <summary>Which object a read means, and on what condition: a version (null for the current one), If-Match, If-None-Match, a byte range (null for all of it).</summary>
internal sealed record ObjectSelector(string? VersionId = null, string? IfMatch = null, string? IfNoneMatch = null, ObjectRange? Range = null)
{
    public static ObjectSelector Current { get; } = new();
}

/// <summary>The bytes from <see cref="Offset"/>, <see cref="Length"/> of them (null: to the end).</summary>
internal readonly record struct ObjectRange(long Offset, long? Length = null)
{
    /// <summary>
    /// Every byte, asked as a range: what large bodies are read as, so that S3's SDK streams them as they come (it checks a
    /// ranged body against no MD5 of its own; see ObjectChecksum). An empty object, which has no byte 0, is read whole.
    /// </summary>
    public static ObjectRange All => new(0);
}

/// <summary>An object as stored: its key, ETag, version id (null without versioning), size in bytes, when it was stored, and its metadata.</summary>
internal sealed record ObjectInfo(string Key, string ETag, string? VersionId, long Size, DateTimeOffset LastModified, ObjectMetadata Metadata);

/// <summary>What a GET found: the object and its body (from the range asked for), that there is none, or that it is still the ETag the caller has.</summary>
internal sealed class ObjectRead : IDisposable
{
    private ObjectRead(ObjectInfo? info, Stream? body, bool notModified)
    {
        Info = info;
        Body = body;
        IsNotModified = notModified;
    }

    public static ObjectRead Missing { get; } = new(null, null, notModified: false);

    public static ObjectRead NotModified { get; } = new(null, null, notModified: true);

    /// <summary>The object, when one was found; null for <see cref="Missing"/> and <see cref="NotModified"/>.</summary>
    public ObjectInfo? Info { get; }

    /// <summary>The bytes asked for, to be read once; null with no <see cref="Info"/>.</summary>
    public Stream? Body { get; }

    public bool IsNotModified { get; }

    public bool Found => Info is not null;

    public static ObjectRead Of(ObjectInfo info, Stream body) => new(info, body, notModified: false);

    public void Dispose() => Body?.Dispose();
}

/// <summary>Whether a backend keeps replaced objects as versions, and its word for the state (S3: Enabled, Suspended, never enabled).</summary>
internal sealed record ObjectVersioning(bool Enabled, string Status);

/// <summary>A listing of the objects whose keys start with <see cref="Prefix"/>: with a <see cref="Delimiter"/>, what lies below the next one is rolled up into common prefixes; <see cref="StartAfter"/> skips keys up to it; a page holds at most <see cref="MaxKeys"/> (the backend's own limit when null).</summary>
internal sealed record ListRequest(string Prefix, string? Delimiter = null, string? StartAfter = null, int? MaxKeys = null, string? Continuation = null);

/// <summary>An object as a listing shows it.</summary>
internal sealed record ObjectSummary(string Key, long Size, DateTimeOffset LastModified);

/// <summary>One page of a listing: its objects, the common prefixes rolled up at the delimiter, and the token of the next page (null on the last).</summary>
internal sealed record ObjectListing(IReadOnlyList<ObjectSummary> Objects, IReadOnlyList<string> CommonPrefixes, string? NextContinuation)
{
    public IEnumerable<string> Keys => Objects.Select(o => o.Key);
}

/// <summary>A listing of versions under <see cref="Prefix"/>, continuing after the key and version markers of the previous page.</summary>
internal sealed record VersionListRequest(string Prefix, string? Delimiter = null, string? KeyMarker = null, string? VersionIdMarker = null, int? MaxKeys = null);

/// <summary>One version of an object as a listing shows it; a deletion marker has no bytes; a time the backend did not give is null.</summary>
internal sealed record ObjectVersionSummary(string Key, string VersionId, bool IsLatest, bool IsDeleteMarker, long Size, DateTimeOffset? LastModified);

/// <summary>One page of versions; <see cref="IsTruncated"/> with the markers of the next page.</summary>
internal sealed record VersionListing(
    IReadOnlyList<ObjectVersionSummary> Versions, IReadOnlyList<string> CommonPrefixes, bool IsTruncated, string? NextKeyMarker, string? NextVersionIdMarker);

/// <summary>One version of one object, by key and version id.</summary>
internal readonly record struct ObjectVersionRef(string Key, string VersionId);

/// <summary>A version a batch delete did not delete, and what the backend said.</summary>
internal sealed record VersionDeleteFailure(ObjectVersionRef Version, string Detail);
