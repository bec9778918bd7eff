namespace ServerlessDb.Storage;

/// <summary>
/// What a commit records about itself in the object's metadata, and what that says about whether a
/// commit whose answer was lost landed. Every commit names itself (a random commit id) and the
/// version it was based on (the parent's ETag). A conditional PUT makes each version the parent of
/// at most one commit, so the object now stored answers the question unless more than one commit
/// has landed since the version ours was based on.
/// </summary>
/// <param name="ETag">The stored object's ETag.</param>
/// <param name="CommitId">The commit that wrote it; null when it was not written by ServerlessDb.</param>
/// <param name="ParentETag">The ETag of the version it was based on, <see cref="NoParent"/> for a create; null when unknown.</param>
internal sealed record StoredCommit(string ETag, string? CommitId, string? ParentETag)
{
    /// <summary>The parent recorded by a commit that created the database.</summary>
    public const string NoParent = "none";

    /// <summary>The parent value a commit based on <paramref name="basedOn"/> records.</summary>
    public static string ParentOf(StoredVersion basedOn) => basedOn.ETag is { } etag ? Bare(etag) : NoParent;

    /// <summary>
    /// Judges commit <paramref name="commitId"/>, based on <paramref name="basedOn"/>, against the
    /// object now stored (<paramref name="stored"/>; null when there is none).
    /// </summary>
    public static CommitCheck Judge(StoredCommit? stored, StoredVersion basedOn, string commitId)
    {
        if (stored is null)
        {
            // Our commit would have created the object (or replaced the one we read); a deleted object
            // cannot carry it.
            return basedOn.Exists ? CommitCheck.Superseded : CommitCheck.NotYetChanged;
        }

        if (stored.CommitId == commitId)
        {
            return CommitCheck.Landed;
        }

        if (basedOn.ETag is { } read && Bare(stored.ETag) == Bare(read))
        {
            return CommitCheck.NotYetChanged;
        }

        // Another commit was based on our parent, so ours can never land on it.
        return stored.ParentETag is { } parent && parent == ParentOf(basedOn)
            ? CommitCheck.Superseded
            : CommitCheck.Unknown;
    }

    private static string Bare(string etag) => etag.Trim('"');
}

/// <summary>What the stored object says about a commit whose answer was lost.</summary>
internal enum CommitCheck
{
    /// <summary>The stored object is our commit.</summary>
    Landed,

    /// <summary>The object is still the version we read (or still missing): our commit has not landed, yet.</summary>
    NotYetChanged,

    /// <summary>Another commit replaced the version we read: ours has not landed and never will.</summary>
    Superseded,

    /// <summary>Several commits landed since the version we read; whether one of them was ours cannot be told.</summary>
    Unknown,
}
