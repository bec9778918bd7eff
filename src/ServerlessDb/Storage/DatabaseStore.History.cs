using System.Buffers.Text;
using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Storage;

/// <summary>
/// Time travel over the backend's versions: a listing of the versions of the database's exact key (the prefix is
/// the key, and versions of other keys sharing it are dropped: they sort after it), a read by version id.
/// Delete markers are not versions: a listing skips them, and a time at which the newest entry was one
/// finds no version. Times are the backend's (S3's LastModified: whole seconds). Every call runs under
/// <see cref="RunAsync"/>'s retries and deadline.
/// </summary>
internal sealed partial class DatabaseStore : IDatabaseHistory
{
    // ListObjectVersions's own page limit, used while looking for the version current at a time.
    private const int SearchPageSize = 1000;

    public async Task<HistoryPage> ListVersionsAsync(string database, int limit, string? next, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var key = KeyFor(database);
        var page = await ListPageAsync(key, limit, next is null ? null : DecodeToken(next), cancellationToken);
        var versions = page.Entries
            .Where(v => !v.IsDeleteMarker)
            .Select(v => new HistoryEntry(v.VersionId, LastModified(v), v.Size, v.IsLatest))
            .ToList();
        return new HistoryPage(versions, page.NextVersionIdMarker is { } marker ? EncodeToken(marker) : null);
    }

    public async Task<HistoryEntry?> FindAsOfAsync(string database, DateTimeOffset asOf, CancellationToken cancellationToken)
    {
        var key = KeyFor(database);
        string? marker = null;
        do
        {
            var page = await ListPageAsync(key, SearchPageSize, marker, cancellationToken);

            // Newest first: the first entry at or before the time is what was current then.
            if (page.Entries.FirstOrDefault(v => LastModified(v) <= asOf) is { } found)
            {
                return found.IsDeleteMarker ? null : new HistoryEntry(found.VersionId, LastModified(found), found.Size, found.IsLatest);
            }

            marker = page.NextVersionIdMarker;
        }
        while (marker is not null);

        return null;
    }

    public async Task<DatabaseSnapshot> GetVersionAsync(string database, string versionId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        var key = KeyFor(database);
        var source = _objects.Describe(key);
        var selector = new ObjectSelector(VersionId: versionId);
        return await _caches.GetVersionAsync(database, versionId, async cache =>
        {
            var received = await RunAsync("GetObject", key, async token =>
            {
                using var read = await ReadVersionAsync(() => _objects.GetAsync(key, selector with { Range = ObjectRange.All }, token));
                return await ReceiveAsync(cache, read, source, token);
            }, cancellationToken);
            return (await CompleteAsync(cache, received, cancellationToken)).Fetched;
        },
        () => RunAsync("HeadObject", key, async token => await ReadVersionAsync(() => _objects.HeadAsync(key, selector, token)) is not null, cancellationToken));

        async Task<T> ReadVersionAsync<T>(Func<Task<T>> read)
        {
            try
            {
                return await read();
            }
            catch (ObjectBackendException e) when (e.Failure == ObjectBackendFailure.NoSuchVersion)
            {
                throw NoSuchVersion(database, versionId, key, e.Detail, e);
            }
        }
    }

    public async Task<DatabaseRead> ReadVersionAsync(string database, string versionId, CancellationToken readDeadline, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(versionId);
        if (LazyFiles is { } lazyFiles && _options.LazyReadMinBytes is { } lazyFrom)
        {
            using (var cached = _caches.For(database).TryHoldVersion(versionId))
            {
                if (cached is null)
                {
                    var pinned = await PinVersionAsync(database, versionId, cancellationToken);
                    if (pinned is not null && pinned.Length >= lazyFrom)
                    {
                        return new DatabaseRead(pinned.ETag, lazyFiles.Open(pinned, readDeadline), pinned);
                    }
                }
            }
        }

        return new DatabaseRead(await GetVersionAsync(database, versionId, cancellationToken));
    }

    /// <summary>What a read of a version the backend does not keep throws: the 404 of time travel, naming the listing.</summary>
    private VersionNotFoundException NoSuchVersion(string database, string versionId, string key, string detail, Exception? failure = null) =>
        new($"Database '{database}' has no version '{versionId}' ({_objects.Describe(key)}: {detail}); GET /db/versions?db={database} lists the versions kept.", failure);

    public string? IdOf(string database, DatabaseETag version) =>
        _versionIds.TryGetValue(database, out var known) && known.ETag == version.ETag ? known.VersionId : null;

    /// <summary>One page of <paramref name="key"/>'s entries (delete markers included), and the marker of the next, if it still holds this key.</summary>
    private async Task<(IReadOnlyList<ObjectVersionSummary> Entries, string? NextVersionIdMarker)> ListPageAsync(
        string key, int limit, string? versionIdMarker, CancellationToken cancellationToken)
    {
        var response = await RunAsync("ListObjectVersions", key, async token =>
        {
            try
            {
                return await _objects.ListVersionsAsync(
                    new VersionListRequest(key, KeyMarker: versionIdMarker is null ? null : key, VersionIdMarker: versionIdMarker, MaxKeys: limit),
                    token);
            }
            catch (ObjectBackendException e) when (versionIdMarker is not null && e.Failure == ObjectBackendFailure.InvalidArgument)
            {
                // The token named a version id the backend does not know: the client's to fix, not the backend's to retry.
                throw new ArgumentException($"{_objects.Name} refused the version id marker of the page token: {e.Detail}", nameof(versionIdMarker), e);
            }
        }, cancellationToken);

        // Keys sort after the one they extend, so the first entry of another key ends this key's versions.
        var entries = response.Versions.TakeWhile(v => v.Key == key).ToList();
        var more = response.IsTruncated
            && entries.Count == response.Versions.Count
            && response.NextKeyMarker == key
            && response.NextVersionIdMarker is not null;
        return (entries, more ? response.NextVersionIdMarker : null);
    }

    private static DateTimeOffset LastModified(ObjectVersionSummary version) => version.LastModified ?? DateTimeOffset.MinValue;

    // Opaque to clients (they pass it back as it was): the version id marker after a tag, base64url, so that
    // text that merely decodes is not taken for a token.
    private const string TokenTag = "s3v1:";

    private static string EncodeToken(string versionIdMarker) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(TokenTag + versionIdMarker));

    private static string DecodeToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(TokenTag, StringComparison.Ordinal) && text[TokenTag.Length..] is var marker && PointInTime.IsVersionId(marker))
            {
                return marker;
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException($"'{token}' is not a page token of this store.", nameof(token));
    }
}
