using System.Globalization;
using ServerlessDb.Domain;
using ServerlessDb.Logging;

namespace ServerlessDb.Storage.Collection;

/// <summary>
/// Garbage collection of chunks (STORAGE_LAYOUT=chunked). For each database with a folder under
/// <c>{Prefix}_chunks/</c>: learns every chunk a stored version of its key names (<see cref="ChunkReferences"/>),
/// then lists the chunk folder's object versions and deletes, by key and version id, each version of a chunk no
/// stored manifest names that is older than <see cref="ChunkCollectorOptions.Grace"/>.
/// </summary>
/// <remarks>
/// Why no commit in progress loses a chunk: a commit uploads its chunks, then commits its manifest, all within one
/// QueryRunner invocation, which Lambda stops at its timeout; the grace is longer than that timeout. So a chunk
/// version uploaded more than the grace before the pass started listing the database's manifests belongs to a
/// commit that has landed (its manifest was listed) or never will. A chunk a commit does not upload because its
/// base already names it is named by that base, which was current when the commit read it, so is still stored
/// (lifecycle only expires noncurrent versions) or was replaced by a manifest listed in its place. And a commit
/// that uploads an identical chunk again while the pass runs creates a new version, which the pass did not list:
/// deleting the listed old version by its id cannot remove it. That last step needs a backend that keeps versions, so
/// the collector refuses to run on any other: there a re-upload overwrites the key, and deleting the key would delete it.
/// The same pass runs in the LockReaper over S3 and in the local server over its folder.
/// </remarks>
internal sealed class ChunkCollector : IChunkCollector
{
    private const int PageSize = 1000;

    // One batch per database listing page: the backend splits it into its own requests.
    private const int DeleteBatchSize = 1000;

    private readonly IObjectBackend _objects;
    private readonly ChunkCollectorOptions _options;
    private readonly ObjectKeys _keys;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;
    private readonly BackendRetry _retry;

    // What each stored version names, kept across passes: a warm container HEADs only versions new since the last.
    private readonly ChunkReferences _references;

    // The database the last pass's time budget did not reach: the next pass starts there, so none is starved.
    private string? _resumeAt;

    public ChunkCollector(IObjectBackend objects, ChunkCollectorOptions options, TimeProvider timeProvider, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(log);
        _objects = objects;
        _options = options;
        _keys = new ObjectKeys(options.Prefix);
        _time = timeProvider;
        _log = log;
        _retry = BackendRetry.ForPass(timeProvider, options.RetryWindow);
        _references = new ChunkReferences(objects, options, _retry);
    }

    private string Folder => _keys.ChunkFolders;

    public async Task<ChunkCollectionSummary> CollectOnceAsync(string? trigger, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var versioning = await _retry.RunAsync(token => _objects.VersioningAsync(token), cancellationToken);
        if (!versioning.Enabled)
        {
            var status = versioning.Status;
            return Logged(trigger, Totals.Empty.ToSummary(0, [], $"the bucket's versioning is {status}: a commit re-uploading a chunk while the pass runs would overwrite " +
                "the version the pass listed, and deleting it would delete the new upload, so nothing is collected without versioning"));
        }

        var databases = Rotated(await ListDatabasesAsync(cancellationToken));
        var references = _references;
        var readBefore = references.ManifestsRead;
        var totals = Totals.Empty;
        var judged = 0;
        var skipped = new List<SkippedDatabase>();
        _resumeAt = null;
        foreach (var database in databases)
        {
            if (_resumeAt is not null || _time.GetElapsedTime(started) > _options.TimeBudget)
            {
                _resumeAt ??= database;
                skipped.Add(new SkippedDatabase(database, Invariant($"the pass's {_options.TimeBudget.TotalSeconds:0} s budget ran out; the next pass starts here")));
                continue;
            }

            var (collected, reason) = await CollectAsync(database, references, cancellationToken);
            if (collected is null)
            {
                skipped.Add(new SkippedDatabase(database, reason!));
                continue;
            }

            judged++;
            totals += collected;
        }

        return Logged(trigger, totals.ToSummary(judged, skipped, refused: null) with { Manifests = references.ManifestsRead - readBefore });
    }

    /// <summary>One database: its counts, or null and why nothing was deleted.</summary>
    private async Task<(Totals? Collected, string? Reason)> CollectAsync(string database, ChunkReferences references, CancellationToken cancellationToken)
    {
        if (!DatabaseName.IsValid(database))
        {
            return Skip(database, "the folder's name is not a database name; it is left alone");
        }

        // Counted back from before the manifests are listed: a chunk older than this belongs to a commit whose
        // manifest the listing saw, or to one that never landed (see the class remarks).
        var cutoff = _time.GetUtcNow() - _options.Grace;
        IReadOnlySet<string> referenced;
        List<ObjectVersionSummary> chunks;
        try
        {
            referenced = await references.ReadAsync(database, cancellationToken);
        }
        catch (ChunkReferencesUnknownException e)
        {
            return Skip(database, e.Message, e);
        }
        catch (Exception e) when (IsBackendFailure(e, cancellationToken))
        {
            return Skip(database, $"its manifests could not all be read ({ObjectBackendException.Describe(e)})", e);
        }

        try
        {
            chunks = await ListChunkVersionsAsync(database, cancellationToken);
        }
        catch (Exception e) when (e is ChunkReferencesUnknownException || IsBackendFailure(e, cancellationToken))
        {
            return Skip(database, $"its chunks could not be listed ({(e is ChunkReferencesUnknownException ? e.Message : ObjectBackendException.Describe(e))})", e);
        }

        var totals = Totals.Empty;
        var doomed = new List<ObjectVersionSummary>();
        foreach (var version in chunks)
        {
            if (referenced.Contains(_keys.ChunkOf(database, version.Key)!))
            {
                totals = totals with { Kept = totals.Kept + 1 };
            }
            else if (version.LastModified is not { } stored || stored > cutoff)
            {
                // Without a time there is no telling its age: keep it, as young.
                totals = totals with { Young = totals.Young + 1 };
            }
            else
            {
                doomed.Add(version);
            }
        }

        foreach (var batch in doomed.Chunk(DeleteBatchSize))
        {
            totals += await DeleteAsync(database, batch, cancellationToken);
        }

        return (totals, null);
    }

    private async Task<Totals> DeleteAsync(string database, ObjectVersionSummary[] batch, CancellationToken cancellationToken)
    {
        IReadOnlyList<VersionDeleteFailure> errors;
        try
        {
            errors = await _retry.RunAsync(token => _objects.DeleteVersionsAsync([.. batch.Select(v => new ObjectVersionRef(v.Key, v.VersionId))], token), cancellationToken);
        }
        catch (Exception e) when (IsBackendFailure(e, cancellationToken))
        {
            Log("error", "chunk versions not deleted: the next pass tries again", database, batch.Length, ObjectBackendException.Describe(e), e);
            return Totals.Empty with { Failed = batch.Length };
        }

        var failed = errors.Select(e => (e.Version.Key, e.Version.VersionId)).ToHashSet();
        foreach (var error in errors.Take(10))
        {
            Log("error", "chunk version not deleted: the next pass tries again", database, 1, $"{error.Version.Key} version {error.Version.VersionId}: {error.Detail}");
        }

        var deleted = batch.Where(v => !failed.Contains((v.Key, v.VersionId))).ToList();
        return Totals.Empty with { Deleted = deleted.Count, DeletedBytes = deleted.Sum(v => v.Size), Failed = batch.Length - deleted.Count };
    }

    private async Task<List<string>> ListDatabasesAsync(CancellationToken cancellationToken)
    {
        var names = new List<string>();
        string? continuation = null;
        for (var page = 1; ; page++)
        {
            if (page > _options.MaxPages)
            {
                throw new InvalidOperationException(Invariant($"{_objects.Describe(Folder)} holds more than {_options.MaxPages} pages of chunk folders."));
            }

            var request = new ListRequest(Folder, Delimiter: "/", MaxKeys: PageSize, Continuation: continuation);
            var response = await _retry.RunAsync(token => _objects.ListAsync(request, token), cancellationToken);
            names.AddRange(response.CommonPrefixes.Select(_keys.DatabaseOfChunkFolder).OfType<string>());
            continuation = response.NextContinuation;
            if (continuation is null)
            {
                return names;
            }
        }
    }

    /// <summary>The versions of the chunk objects of <paramref name="database"/>; delete markers and keys that are not a SHA-256 are left out (never deleted).</summary>
    private async Task<List<ObjectVersionSummary>> ListChunkVersionsAsync(string database, CancellationToken cancellationToken)
    {
        var prefix = _keys.ChunkFolder(database);
        var versions = new List<ObjectVersionSummary>();
        string? keyMarker = null, versionIdMarker = null;
        for (var page = 1; ; page++)
        {
            if (page > _options.MaxPages)
            {
                throw new ChunkReferencesUnknownException(Invariant($"more than {_options.MaxPages} pages of versions"));
            }

            var request = new VersionListRequest(prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: PageSize);
            var response = await _retry.RunAsync(token => _objects.ListVersionsAsync(request, token), cancellationToken);
            versions.AddRange(response.Versions.Where(v => !v.IsDeleteMarker && !string.IsNullOrEmpty(v.VersionId) && _keys.ChunkOf(database, v.Key) is not null));
            if (!response.IsTruncated)
            {
                return versions;
            }

            (keyMarker, versionIdMarker) = (response.NextKeyMarker, response.NextVersionIdMarker);
        }
    }

    /// <summary>The databases in name order, starting where the last pass's time budget stopped.</summary>
    private List<string> Rotated(List<string> names)
    {
        names.Sort(StringComparer.Ordinal);
        var start = _resumeAt is null ? 0 : names.FindIndex(n => string.CompareOrdinal(n, _resumeAt) >= 0);
        return start <= 0 ? names : [.. names.Skip(start), .. names.Take(start)];
    }

    private (Totals?, string?) Skip(string database, string reason, Exception? exception = null)
    {
        Log("warn", "chunks not collected: nothing is deleted for a database whose manifests are not all known", database, null, reason, exception);
        return (null, reason);
    }

    private ChunkCollectionSummary Logged(string? trigger, ChunkCollectionSummary summary)
    {
        var level = summary.Failed > 0 ? "error" : summary.Skipped.Count > 0 || summary.Refused is not null ? "warn" : "info";
        using var line = new LogLine(_time, level, "chunk collector pass");
        line.Add("trigger", trigger)
            .Add("chunks", _objects.Describe(Folder))
            .Add("graceSeconds", (long)_options.Grace.TotalSeconds);
        summary.AddTo(line).WriteTo(_log);
        return summary;
    }

    private void Log(string level, string message, string database, int? versions, string reason, Exception? exception = null)
    {
        using var line = new LogLine(_time, level, message);
        line.Add("database", database)
            .Add("chunks", _objects.Describe(_keys.ChunkFolder(database)))
            .Add("reason", reason);
        if (versions is { } count)
        {
            line.Add("versions", count);
        }

        line.Add("exception", exception).WriteTo(_log);
    }

    private static bool IsBackendFailure(Exception e, CancellationToken cancellationToken) =>
        e is ObjectBackendException or BackendRetryExpiredException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The chunk counts of a database, or of a pass.</summary>
    private sealed record Totals(int Deleted, long DeletedBytes, int Kept, int Young, int Failed)
    {
        public static readonly Totals Empty = new(0, 0, 0, 0, 0);

        public static Totals operator +(Totals a, Totals b) =>
            new(a.Deleted + b.Deleted, a.DeletedBytes + b.DeletedBytes, a.Kept + b.Kept, a.Young + b.Young, a.Failed + b.Failed);

        public ChunkCollectionSummary ToSummary(int databases, IReadOnlyList<SkippedDatabase> skipped, string? refused) => new()
        {
            Databases = databases,
            Manifests = 0,
            Deleted = Deleted,
            DeletedBytes = DeletedBytes,
            Kept = Kept,
            Young = Young,
            Failed = Failed,
            Skipped = skipped,
            Refused = refused,
        };
    }
}
