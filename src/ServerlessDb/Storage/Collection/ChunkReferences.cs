using System.Globalization;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.Storage.Collection;

/// <summary>
/// The chunks the stored versions of one database's key name, for the <see cref="ChunkCollector"/>:
/// lists every version of the exact key (delete markers are not versions), HEADs each to see whether it is a
/// manifest (<see cref="StoredMetadata.LayoutKey"/>), and GETs only the manifests, which are small; a
/// whole-file version is never downloaded. A version is immutable, so what it names is remembered by
/// (key, version id) for as long as the process lives and the version is still listed: a warm reaper container
/// reads only the versions committed since its last pass. Anything not known for certain throws, so that the
/// collector deletes nothing for the database. Not thread-safe: passes run one at a time.
/// </summary>
internal sealed class ChunkReferences(IObjectBackend objects, ChunkCollectorOptions options, BackendRetry retry)
{
    private const int PageSize = 1000;

    private readonly Dictionary<(string Key, string VersionId), IReadOnlyList<string>> _known = [];
    private readonly ObjectKeys _keys = new(options.Prefix);

    /// <summary>The manifests read (GET) since this instance was made; a version read before is not read or counted again.</summary>
    public int ManifestsRead { get; private set; }

    /// <summary>The SHA-256 of every chunk a stored version of <paramref name="database"/> names.</summary>
    /// <exception cref="ChunkReferencesUnknownException">a manifest could not be read or parsed, or the listing is longer than the pass allows.</exception>
    /// <exception cref="ObjectBackendException">the backend refused a call.</exception>
    /// <exception cref="BackendRetryExpiredException">the backend kept failing, or did not answer, for the retry window.</exception>
    public async Task<IReadOnlySet<string>> ReadAsync(string database, CancellationToken cancellationToken)
    {
        var key = _keys.Database(database);
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        var listed = await ListVersionIdsAsync(key, cancellationToken);

        // Versions the bucket no longer keeps are forgotten, so what is remembered stays what is stored.
        var stillListed = listed.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _known.Keys.Where(k => k.Key == key && !stillListed.Contains(k.VersionId)).ToList())
        {
            _known.Remove(gone);
        }

        foreach (var versionId in listed)
        {
            if (!_known.TryGetValue((key, versionId), out var chunks))
            {
                chunks = await ReadVersionAsync(key, versionId, cancellationToken);
                _known[(key, versionId)] = chunks;
            }

            referenced.UnionWith(chunks);
        }

        return referenced;
    }

    private async Task<List<string>> ListVersionIdsAsync(string key, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        string? keyMarker = null, versionIdMarker = null;
        for (var page = 1; ; page++)
        {
            if (page > options.MaxPages)
            {
                throw new ChunkReferencesUnknownException(Invariant($"{objects.Describe(key)} has more versions than {options.MaxPages} pages of {PageSize} list"));
            }

            var request = new VersionListRequest(key, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: PageSize);
            var response = await retry.RunAsync(token => objects.ListVersionsAsync(request, token), cancellationToken);
            var entries = response.Versions;

            // The prefix is the key: versions of longer keys sharing it sort after all of its own.
            ids.AddRange(entries.Where(v => v.Key == key && !v.IsDeleteMarker).Select(v => v.VersionId));
            if (!response.IsTruncated || entries.Any(v => v.Key != key))
            {
                return ids;
            }

            (keyMarker, versionIdMarker) = (response.NextKeyMarker, response.NextVersionIdMarker);
        }
    }

    private async Task<IReadOnlyList<string>> ReadVersionAsync(string key, string versionId, CancellationToken cancellationToken)
    {
        var source = $"{objects.Describe(key)} version {versionId}";
        var selector = new ObjectSelector(VersionId: versionId);
        var head = await retry.RunAsync(token => objects.HeadAsync(key, selector, token), cancellationToken)
            ?? throw new ChunkReferencesUnknownException($"{source} was listed, and then not found");
        if (!StoredMetadata.IsManifest(head.Metadata))
        {
            return [];
        }

        if (head.Size > ChunkManifest.MaxBytes)
        {
            throw new ChunkReferencesUnknownException(Invariant($"the manifest {source} is {head.Size} bytes, more than a manifest's {ChunkManifest.MaxBytes}"));
        }

        ManifestsRead++;
        var (json, mismatch) = await retry.RunAsync(async token =>
        {
            using var read = await objects.GetAsync(key, selector, token);
            return read.Found
                ? await StoredMetadata.ReadManifestBodyAsync(read, token)
                : throw new ChunkReferencesUnknownException($"{source} was listed, and then not found");
        }, cancellationToken);

        if (mismatch is not null)
        {
            throw new ChunkReferencesUnknownException($"the manifest {source} cannot be trusted: {mismatch}");
        }

        try
        {
            return [.. ChunkManifest.Parse(json).Chunks.Select(c => c.Sha256)];
        }
        catch (FormatException e)
        {
            throw new ChunkReferencesUnknownException($"the manifest {source} does not parse: {e.Message}", e);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
