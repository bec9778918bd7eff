namespace ServerlessDb.Storage.Chunked;

/// <summary>
/// The manifests of the last few versions of each database this process read or committed, by ETag: what a commit
/// finds its changed chunks against, and what tells which chunks a cached or spare file already holds. Manifests
/// are small (about 150 bytes a chunk), and a version's manifest never changes, so a stale entry is only unused.
/// </summary>
internal sealed class KnownManifests
{
    // The current version, the one before (the spare a write patches), and a little slack for a reader between.
    private const int PerDatabase = 4;

    private readonly Dictionary<string, List<(string ETag, ChunkManifest Manifest)>> _byDatabase = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The manifest of <paramref name="version"/> of <paramref name="database"/>, if this process knows it.</summary>
    public ChunkManifest? Of(string database, DatabaseETag version)
    {
        lock (_gate)
        {
            return version.ETag is { } etag && _byDatabase.TryGetValue(database, out var known)
                ? known.FirstOrDefault(k => k.ETag == etag).Manifest
                : null;
        }
    }

    /// <summary>Remembers <paramref name="manifest"/> as that of version <paramref name="etag"/>, forgetting the oldest beyond a few.</summary>
    public void Remember(string database, string etag, ChunkManifest manifest)
    {
        lock (_gate)
        {
            if (!_byDatabase.TryGetValue(database, out var known))
            {
                _byDatabase[database] = known = [];
            }

            known.RemoveAll(k => k.ETag == etag);
            known.Insert(0, (etag, manifest));
            if (known.Count > PerDatabase)
            {
                known.RemoveAt(known.Count - 1);
            }
        }
    }

    /// <summary>
    /// The file of the newest version of the database <paramref name="cache"/> holds whose manifest is known, held for the
    /// caller (dispose it), as the basis a download copies chunks from; null when there is none.
    /// </summary>
    public (DatabaseSnapshot Held, ChunkedBasis Basis)? HoldBasis(CachedDatabase cache)
    {
        (string ETag, ChunkManifest Manifest) newest;
        lock (_gate)
        {
            if (!_byDatabase.TryGetValue(cache.Name, out var known) || known.Count == 0)
            {
                return null;
            }

            newest = known[0];
        }

        return cache.TryHold(new DatabaseETag(newest.ETag)) is { } held ? (held, new ChunkedBasis(held.FilePath, newest.Manifest)) : null;
    }
}
