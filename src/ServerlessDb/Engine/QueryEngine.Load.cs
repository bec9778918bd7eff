using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Logging;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// Loads (rqlite's <c>/db/load</c>): a SQLite file or an SQL dump becomes the whole new version of a
/// database. The file is built and validated in scratch space before the lock is taken, then committed by
/// <see cref="ReplaceAsync"/>: one conditional commit under the write lock. A file too large for a request
/// is staged in the store first (<see cref="IDatabaseStaging"/>) and taken from there.
/// </summary>
internal sealed partial class QueryEngine
{
    // Deleting a loaded staging object is tidying up (the lifecycle rule expires it anyway): it gets a
    // short budget of its own and never turns a committed load into an error.
    private static readonly TimeSpan StagingCleanupWindow = TimeSpan.FromSeconds(3);

    private IDatabaseStaging? Staging => _capabilities.Staging;

    /// <summary>Loads the SQLite file that is <paramref name="body"/>.</summary>
    /// <exception cref="BadRequestException">the file is empty, not SQLite, or fails its integrity check; nothing was changed.</exception>
    public async Task<LoadOutcome> LoadFileAsync(string database, string requestId, ReadOnlyMemory<byte> body, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "load";
        var path = _workingCopies.NewScratchPath(".sqlite");
        try
        {
            using (trace.Phase("execute"))
            {
                DatabaseLoads.WriteBody(body, path);
            }

            return await ValidateAndReplaceAsync(database, requestId, path, LoadFormat.SqliteFile, deadline, trace, cancellationToken);
        }
        finally
        {
            WorkingCopies.Delete(path);
        }
    }

    /// <summary>Builds a new database from the SQL dump <paramref name="dump"/> and loads it.</summary>
    /// <exception cref="BadRequestException">a statement failed, or the dump rolls back; nothing was changed.</exception>
    /// <exception cref="StatementRefusedException">the sandbox refused a statement; nothing was changed.</exception>
    public async Task<LoadOutcome> LoadDumpAsync(string database, string requestId, string dump, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "load";
        var path = _workingCopies.NewScratchPath(".sqlite");
        try
        {
            ExecResult result;
            using (trace.Phase("execute"))
            {
                result = DatabaseLoads.BuildFromDump(dump, path, () => deadline - _time.GetUtcNow());
            }

            return await ValidateAndReplaceAsync(database, requestId, path, LoadFormat.SqlDump, deadline, trace, cancellationToken) with { DumpResult = result };
        }
        finally
        {
            WorkingCopies.Delete(path);
        }
    }

    /// <summary>A staging slot to upload a file for <paramref name="database"/> to, with a link valid for <paramref name="expiry"/>.</summary>
    /// <exception cref="BadRequestException">the store has no staging area (the local folder).</exception>
    public Task<StagedUpload> CreateStagedUploadAsync(string database, TimeSpan expiry, CancellationToken cancellationToken) =>
        (Staging ?? throw new BadRequestException(LoadMessages.NoStagingArea)).CreateUploadAsync(database, expiry, cancellationToken);

    /// <summary>
    /// Loads the SQLite file staged as <paramref name="id"/>: downloads it to scratch space (streamed), validates
    /// and commits it, then deletes the staged object. A file that fails validation stays staged until it expires.
    /// </summary>
    /// <exception cref="BadRequestException">no staging area, nothing staged under that id, or the file is not a valid SQLite file.</exception>
    public async Task<LoadOutcome> LoadStagedAsync(string database, string requestId, string id, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "load";
        var staging = Staging ?? throw new BadRequestException(LoadMessages.NoStagingArea);
        var path = _workingCopies.NewScratchPath(".sqlite");
        try
        {
            StagedObject staged;
            using (trace.Phase("fetch"))
            {
                staged = await staging.DownloadAsync(database, id, path, cancellationToken)
                    ?? throw new BadRequestException(LoadMessages.StagedUploadNotFound(database, id));
            }

            if (staged.Length > 0 && !StartsLikeSqliteFile(path))
            {
                throw new BadRequestException(LoadMessages.StagedDump);
            }

            var outcome = await ValidateAndReplaceAsync(database, requestId, path, LoadFormat.SqliteFile, deadline, trace, cancellationToken);
            await DeleteStagedAsync(staging, database, requestId, staged);
            return outcome;
        }
        finally
        {
            WorkingCopies.Delete(path);
        }
    }

    private async Task<LoadOutcome> ValidateAndReplaceAsync(
        string database, string requestId, string path, LoadFormat format, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        int tables;
        using (trace.Phase("execute"))
        {
            tables = DatabaseLoads.Validate(path, deadline - _time.GetUtcNow(), emptyIsValid: format == LoadFormat.SqlDump);
        }

        var bytes = new FileInfo(path).Length;
        var committed = await ReplaceAsync(database, requestId, path, trace, cancellationToken);
        return new LoadOutcome(committed.Version, bytes, tables, format);
    }

    private async Task DeleteStagedAsync(IDatabaseStaging staging, string database, string requestId, StagedObject staged)
    {
        using var cleanup = new CancellationTokenSource(StagingCleanupWindow, _time);
        try
        {
            await staging.DeleteAsync(database, staged, cleanup.Token);
        }
        catch (Exception ex) when (ex is ServerlessDbException or OperationCanceledException)
        {
            using var line = new LogLine(_time, "warn", "staged upload not deleted after its load; the bucket's lifecycle rule expires it");
            line.Add("requestId", requestId).Add("database", database).Add("stagedId", staged.Id).Add("exception", ex).WriteTo(_log);
        }
    }

    private static bool StartsLikeSqliteFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> start = stackalloc byte[16];
        return file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false) == start.Length && DatabaseLoads.StartsLikeSqliteFile(start);
    }
}
