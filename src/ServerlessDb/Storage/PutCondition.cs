namespace ServerlessDb.Storage;

/// <summary>When a put may write: only where no object is (<c>If-None-Match: *</c>), or only over the version <see cref="ETag"/> (<c>If-Match</c>).</summary>
internal sealed record PutCondition
{
    private PutCondition(string? etag) => ETag = etag;

    public static PutCondition IfNoneExists { get; } = new((string?)null);

    /// <summary>The ETag the object must still have; null for <see cref="IfNoneExists"/>.</summary>
    public string? ETag { get; }

    public static PutCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(etag);
        return new PutCondition(etag);
    }

    public override string ToString() => ETag is null ? "If-None-Match=*" : $"If-Match={ETag}";
}
