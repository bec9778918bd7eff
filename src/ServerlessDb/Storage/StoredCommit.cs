namespace ServerlessDb.Storage;

/// <summary>
/// What a stored version records about the commits that made it, and what that says about whether a
/// commit whose answer was lost landed. Every commit names itself (a random commit id) and the
/// version it was based on (the parent's ETag), and carries the same for its nearest ancestors (its
/// lineage, newest first). A conditional PUT makes each version the parent of at most one commit, so
/// the lineage of the object now stored names the one child of the version ours was based on: ours,
/// or another writer's.
/// </summary>
/// <param name="ETag">The stored object's ETag.</param>
/// <param name="Lineage">The commit that wrote it, then its ancestors; empty when it was not written by ServerlessDb.</param>
internal sealed record StoredCommit(string ETag, IReadOnlyList<CommitLink> Lineage)
{
    /// <summary>The parent recorded by a commit that created the database.</summary>
    public const string NoParent = "none";

    /// <summary>
    /// How many commits a version remembers, itself included: enough to settle a lost answer while
    /// other writers keep committing, small enough for S3's 2 KB of user metadata.
    /// </summary>
    public const int LineageLength = 20;

    /// <summary>The parent value a commit based on <paramref name="basedOn"/> records.</summary>
    public static string ParentOf(DatabaseETag basedOn) => basedOn.ETag is { } etag ? Bare(etag) : NoParent;

    /// <summary>The lineage of a new commit on top of a version whose lineage is <paramref name="parentLineage"/>.</summary>
    public static IReadOnlyList<CommitLink> Extend(string commitId, DatabaseETag basedOn, IReadOnlyList<CommitLink> parentLineage) =>
        [new CommitLink(commitId, ParentOf(basedOn)), .. parentLineage.Take(LineageLength - 1)];

    /// <summary>Ancestors as stored in metadata: <c>commitId.parentETag</c>, comma-separated.</summary>
    public static string Format(IEnumerable<CommitLink> links) => string.Join(',', links.Select(l => $"{l.CommitId}.{l.ParentETag}"));

    /// <summary>Reads what <see cref="Format"/> wrote; entries that do not parse end the list.</summary>
    public static IEnumerable<CommitLink> Parse(string? text)
    {
        foreach (var entry in (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dot = entry.IndexOf('.');
            if (dot <= 0 || dot == entry.Length - 1)
            {
                yield break;
            }

            yield return new CommitLink(entry[..dot], entry[(dot + 1)..]);
        }
    }

    /// <summary>
    /// Judges commit <paramref name="commitId"/>, based on <paramref name="basedOn"/>, against the
    /// object now stored (<paramref name="stored"/>; null when there is none).
    /// </summary>
    public static CommitVerdict Judge(StoredCommit? stored, DatabaseETag basedOn, string commitId)
    {
        if (stored is null)
        {
            // Our commit would have created the object (or replaced the one we read); a deleted object
            // cannot carry it.
            return new(basedOn.Exists ? CommitCheck.Superseded : CommitCheck.NotYetChanged, null);
        }

        if (basedOn.ETag is { } read && Bare(stored.ETag) == Bare(read))
        {
            return new(CommitCheck.NotYetChanged, null);
        }

        // Newest first: the first commit whose parent is the version we read is that version's only child.
        var parent = ParentOf(basedOn);
        for (var i = 0; i < stored.Lineage.Count; i++)
        {
            if (stored.Lineage[i].ParentETag != parent)
            {
                continue;
            }

            if (stored.Lineage[i].CommitId != commitId)
            {
                return new(CommitCheck.Superseded, null);
            }

            // Our version's ETag is what the commit after it recorded as its parent, unquoted; a backend quotes all its
            // ETags (S3) or none (the local folder), as it quoted the one stored now.
            return new(CommitCheck.Landed, i == 0 ? stored.ETag : Quoted(stored.Lineage[i - 1].ParentETag, like: stored.ETag));
        }

        return new(CommitCheck.Unknown, null);
    }

    private static string Bare(string etag) => etag.Trim('"');

    private static string Quoted(string bare, string like) => like.StartsWith('"') ? $"\"{bare}\"" : bare;
}

/// <summary>One commit in a lineage: its id, and the ETag (unquoted) of the version it was based on.</summary>
internal readonly record struct CommitLink(string CommitId, string ParentETag);

/// <summary>What the stored object says about a commit; <paramref name="ETag"/> is our version's when it landed.</summary>
internal readonly record struct CommitVerdict(CommitCheck Check, string? ETag);

/// <summary>What the stored object says about a commit whose answer was lost.</summary>
internal enum CommitCheck
{
    /// <summary>Our commit is the stored object, or one of its recorded ancestors.</summary>
    Landed,

    /// <summary>The object is still the version we read (or still missing): our commit has not landed, yet.</summary>
    NotYetChanged,

    /// <summary>Another commit replaced the version we read: ours has not landed and never will.</summary>
    Superseded,

    /// <summary>More commits landed since the version we read than the object remembers, or it remembers none.</summary>
    Unknown,
}
