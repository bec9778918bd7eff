using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// Time travel: the versions the store keeps, reading one of them (by id, or the one current at a time) on
/// the read path, and a restore, which makes an old version's content the new current version through
/// <see cref="ReplaceAsync"/>: one more commit, conditional and under the lock, so nothing is destroyed and a
/// restore can itself be undone.
/// </summary>
internal sealed partial class QueryEngine
{
    private IDatabaseHistory History => _capabilities.History
        ?? throw new BadRequestException("time travel is not available: this store keeps no versions");

    /// <inheritdoc cref="IDatabaseHistory.ListVersionsAsync"/>
    public Task<HistoryPage> ListVersionsAsync(string database, int limit, string? next, CancellationToken cancellationToken) =>
        History.ListVersionsAsync(database, limit, next, cancellationToken);

    /// <summary>
    /// The version <paramref name="at"/> names, held as a snapshot: by its id, or the newest committed at or
    /// before its time. Before the first kept version there is none, and that is a 404, not the empty database
    /// a missing one reads as: with expiring versions "none kept" cannot be told from "did not exist".
    /// </summary>
    /// <exception cref="VersionNotFoundException">the store keeps no such version.</exception>
    public async Task<DatabaseSnapshot> SnapshotAtAsync(string database, PointInTime at, CancellationToken cancellationToken) =>
        await History.GetVersionAsync(database, await VersionIdAtAsync(database, at, cancellationToken), cancellationToken);

    /// <summary>
    /// One read of the version <paramref name="at"/> names, as reads of the current version are: in place when it is
    /// large (its fetches waiting until <paramref name="readDeadline"/>), else its file.
    /// </summary>
    /// <exception cref="VersionNotFoundException">the store keeps no such version.</exception>
    private async Task<DatabaseRead> ReadAtAsync(string database, PointInTime at, CancellationToken readDeadline, CancellationToken cancellationToken) =>
        await History.ReadVersionAsync(database, await VersionIdAtAsync(database, at, cancellationToken), readDeadline, cancellationToken);

    private async Task<string> VersionIdAtAsync(string database, PointInTime at, CancellationToken cancellationToken) =>
        at.VersionId
        ?? (await History.FindAsOfAsync(database, at.AsOf!.Value, cancellationToken))?.Id
        ?? throw new VersionNotFoundException(
            $"Database '{database}' has no version {at}: it did not exist yet or was deleted then, or the versions of that time have expired; GET /db/versions?db={database} lists the versions kept.");

    /// <summary>
    /// Makes the content of the version <paramref name="at"/> names the current version of
    /// <paramref name="database"/>, as a new commit (a private copy of it, committed by <see cref="ReplaceAsync"/>).
    /// </summary>
    /// <exception cref="VersionNotFoundException">the store keeps no such version; nothing was changed.</exception>
    /// <exception cref="WriteConflictException">other commits kept landing for every attempt; nothing was replaced.</exception>
    public async Task<RestoreOutcome> RestoreAsync(string database, PointInTime at, string requestId, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "restore";
        string? copy;
        string restoredId;
        using (trace.Phase("fetch"))
        {
            using var snapshot = await SnapshotAtAsync(database, at, cancellationToken);
            trace.Fetched(snapshot);
            restoredId = snapshot.VersionId!;
            copy = _workingCopies.CreateFrom(snapshot.FilePath);
        }

        try
        {
            var outcome = await ReplaceAsync(database, requestId, copy, trace, cancellationToken);
            copy = null; // the store moved it into its cache
            return new RestoreOutcome(restoredId, History.IdOf(database, outcome.Version));
        }
        finally
        {
            if (copy is not null)
            {
                WorkingCopies.Delete(copy);
            }
        }
    }
}

/// <summary>
/// What a restore did: the version whose content it restored, and the history id of the new current version
/// it committed (null when the store did not say, as S3 does not in a bucket without versioning).
/// </summary>
internal sealed record RestoreOutcome(string RestoredId, string? NewVersionId);
