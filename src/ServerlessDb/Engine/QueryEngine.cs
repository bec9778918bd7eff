using Microsoft.Data.Sqlite;
using Polly;
using SQLitePCL;
using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.Logging;
using ServerlessDb.Resilience;
using ServerlessDb.Storage;

namespace ServerlessDb.Engine;

/// <summary>
/// Runs requests against databases in a store. A request whose statements all prepare read-only
/// runs on a read-only connection to the current snapshot. Any other request (except on /db/query)
/// is a write: it takes the lock, runs on a private copy of the current version, and commits the
/// copy conditionally on that version; a conflicting commit runs the request again from a fresh read.
/// </summary>
internal sealed partial class QueryEngine
{
    // A release gets at least this long even when the request is out of time: a lock left behind
    // blocks every writer of the database until the reaper, so it is worth the few seconds beyond the
    // request's deadline that the Lambda timeout leaves (REQUEST_TIMEOUT_SECONDS is set below it).
    private static readonly TimeSpan MinimumReleaseWindow = TimeSpan.FromSeconds(3);

    // A read pinned to a version that a commit then replaced starts again on the new one, this many times at most.
    private const int PinnedReadAttempts = 3;

    private readonly IDatabaseStore _store;
    private readonly IDatabaseLock _lock;
    private readonly WorkingCopies _workingCopies;
    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _conflictRetry;
    private readonly ILogSink _log;
    private readonly StoreCapabilities _capabilities;

    /// <param name="capabilities">what the store offers beyond <see cref="IDatabaseStore"/>; none when null.</param>
    public QueryEngine(IDatabaseStore store, IDatabaseLock databaseLock, WorkingCopies workingCopies, EngineOptions options, TimeProvider time, ILogSink log, StoreCapabilities? capabilities = null)
    {
        _log = log;
        _capabilities = capabilities ?? StoreCapabilities.None;
        _store = store;
        _lock = databaseLock;
        _workingCopies = workingCopies;
        _options = options;
        _time = time;
        _conflictRetry = options.WriteAttempts <= 1
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder { TimeProvider = time }
                .AddRetry(Backoff.Retry(
                    args => args.Outcome.Exception is WriteConflictException,
                    firstDelay: TimeSpan.FromMilliseconds(25),
                    maxDelay: TimeSpan.FromSeconds(1),
                    maxRetryAttempts: options.WriteAttempts - 1))
                .Build();
    }

    /// <param name="deadline">When the request must have answered; statements are interrupted past it.</param>
    /// <exception cref="DatabaseCorruptException">SQLite found the database file corrupt or not a database.</exception>
    public async Task<QueryOutcome> RunAsync(QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        try
        {
            return await RunOnSnapshotAsync(request, deadline, trace, cancellationToken);
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is raw.SQLITE_CORRUPT or raw.SQLITE_NOTADB)
        {
            // Statement errors are results; this is SQLite refusing the file itself (opening it, or
            // the service's own pragmas and transaction control), so no write can run on it.
            throw new DatabaseCorruptException(request.Flags.Database, $"version {trace.VersionRead}", e.Message, e);
        }
    }

    /// <summary>
    /// Takes the backup <paramref name="request"/> asks for on the read path: the current version's
    /// snapshot (validated by the store), never the lock; a dump reads it on a read-only connection.
    /// </summary>
    /// <exception cref="DatabaseCorruptException">SQLite found the database file corrupt or not a database.</exception>
    public async Task<BackupFile> BackupAsync(BackupRequest request, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "backup";
        DatabaseSnapshot snapshot;
        using (trace.Phase("fetch"))
        {
            snapshot = request.At is { } at
                ? await SnapshotAtAsync(request.Database, at, cancellationToken)
                : await _store.GetAsync(request.Database, maxStaleness: null, cancellationToken);
        }

        trace.VersionRead = snapshot.ETag.ToString();
        using (trace.Phase("execute"))
        {
            try
            {
                return DatabaseBackups.Take(snapshot, request, _workingCopies);
            }
            catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is raw.SQLITE_CORRUPT or raw.SQLITE_NOTADB)
            {
                throw new DatabaseCorruptException(request.Database, $"version {trace.VersionRead}", e.Message, e);
            }
        }
    }

    /// <summary>
    /// A direct link, valid for <paramref name="expiry"/>, to the stored object <paramref name="backup"/> is
    /// a copy of, or, for a version stored in chunks, to a copy of its file the store keeps for the link; null
    /// when the backup is generated (a dump, gzipped) or the store gives no links.
    /// </summary>
    public Task<Uri>? LinkToAsync(string database, BackupFile backup, TimeSpan expiry, CancellationToken cancellationToken) =>
        _capabilities.Links is not { } links ? null
        : backup.IsAssembledFile ? links.LinkToCopyAsync(database, backup.Path, expiry, cancellationToken)
        : !backup.IsStoredObject ? null
        : backup.VersionId is { } versionId ? links.LinkToVersionAsync(database, versionId, expiry, cancellationToken)
        : links.LinkToAsync(database, backup.Version, expiry, cancellationToken);

    /// <summary>
    /// Makes the complete database file at <paramref name="filePath"/> the new current version of
    /// <paramref name="database"/> (a load, a restore): one commit under the write lock, conditional on the
    /// version current under it, as every write is. A conflict (a writer without the lock committed) is
    /// retried from a fresh look, since the new content does not depend on what it replaces. The file is
    /// moved into the cache on success and left to the caller otherwise; the caller validates it first.
    /// </summary>
    /// <exception cref="WriteConflictException">other commits kept landing for every attempt; nothing was replaced.</exception>
    public async Task<QueryOutcome> ReplaceAsync(string database, string requestId, string filePath, RequestTrace trace, CancellationToken cancellationToken)
    {
        LockLease lease;
        using (trace.Phase("lock"))
        {
            lease = await _lock.AcquireAsync(database, requestId, cancellationToken);
        }

        try
        {
            return await _conflictRetry.ExecuteAsync(
                async token => await ReplaceOnceAsync(database, filePath, trace, token),
                cancellationToken);
        }
        finally
        {
            await ReleaseAsync(lease, requestId, _time.GetUtcNow(), trace);
        }
    }

    private async Task<QueryOutcome> ReplaceOnceAsync(string database, string filePath, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Attempts++;
        DatabaseETag current;
        using (trace.Phase("fetch"))
        {
            current = await _store.CurrentETagAsync(database, cancellationToken);
        }

        trace.VersionRead = current.ToString();
        var committed = await CommitAsync(token => _store.CommitAsync(database, current, filePath, token), trace, cancellationToken);
        return new QueryOutcome([], Committed: true, committed);
    }

    private static async Task<DatabaseETag> CommitAsync(Func<CancellationToken, Task<CommitReceipt>> commit, RequestTrace trace, CancellationToken cancellationToken)
    {
        DatabaseETag committed;
        using (trace.Phase("upload"))
        {
            CommitReceipt receipt;
            try
            {
                receipt = await commit(cancellationToken);
            }
            catch (WriteConflictException)
            {
                trace.Conflicts++;
                throw;
            }

            committed = receipt.ETag;
            trace.BytesUploaded += receipt.BytesUploaded;
        }

        trace.Committed = true;
        trace.VersionWritten = committed.ToString();
        return committed;
    }

    /// <summary>A page of the databases the store holds, in the order of their stored names (see <see cref="IDatabaseCatalog"/>).</summary>
    public async Task<DatabasePage> ListDatabasesAsync(string? after, int limit, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Path = "databases";
        var catalog = _capabilities.Catalog ?? throw new NotSupportedException($"{_store.GetType().Name} cannot list its databases.");
        using (trace.Phase("fetch"))
        {
            return await catalog.ListAsync(after, limit, cancellationToken);
        }
    }

    private async Task<QueryOutcome> RunOnSnapshotAsync(QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ReadOrWriteAsync(request, deadline, trace, cancellationToken);
            }
            catch (PinnedVersionReplacedException e)
            {
                // A read never fails because a write landed while it read: it starts again on the new version.
                if (attempt >= PinnedReadAttempts)
                {
                    throw new StorageUnavailableException(
                        $"Database '{request.Flags.Database}' was replaced by {PinnedReadAttempts} commits in a row while this request read it: {e.Message}. Retry the request.", e);
                }
            }
        }
    }

    private async Task<QueryOutcome> ReadOrWriteAsync(QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        var database = request.Flags.Database;
        using var readDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        readDeadline.CancelAfter(TimeUntil(deadline));
        DatabaseRead read;
        using (trace.Phase("fetch"))
        {
            read = request.Flags.At is { } at
                ? await ReadAtAsync(database, at, readDeadline.Token, cancellationToken)
                : await _store.ReadAsync(database, request.Flags.MaxStaleness, readDeadline.Token, cancellationToken);
        }

        trace.Fetched(read);
        using (read)
        {
            try
            {
                var outcome = RunRead(read, request, deadline, trace);
                if (outcome is not null)
                {
                    return outcome;
                }
            }
            catch (Exception e) when (read.Lease?.FirstFailure is { } failure && e is not PinnedVersionReplacedException)
            {
                throw LazyReadFailure(database, failure, e);
            }
            finally
            {
                // The read is done: what it still fetches ahead is for no one.
                await readDeadline.CancelAsync();
                trace.ReadLazily(read);
            }
        }

        trace.Path = "write";
        return await WriteAsync(request, deadline, trace, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="request"/> on a read-only connection to <paramref name="read"/>: a replay, or a read's
    /// results; null when it must run as a write. A lazy read whose fetches failed answers nothing it read: SQLite saw
    /// only an I/O error (a statement's error, or a wrong plan), and the cause is thrown instead.
    /// </summary>
    private QueryOutcome? RunRead(DatabaseRead read, QueryRequest request, DateTimeOffset deadline, RequestTrace trace)
    {
        trace.VersionRead = read.ETag.ToString();
        using var session = SqliteSession.OpenReadOnly(read);

        // A retry of a write that already committed needs neither the lock nor a new version, nor
        // even to prepare its statements again: a committed record is final.
        if (request.Idempotency is { } idempotency && FindAnswer(session, request, idempotency) is { } earlier)
        {
            read.ThrowIfFetchFailed();
            trace.Path = "replay";
            return QueryOutcome.Replay(earlier, read.ETag);
        }

        IReadOnlyList<Classification> classifications;
        using (trace.Phase("classify"))
        {
            classifications = StatementClassifier.ClassifyAll(session, request.Statements, deadline - _time.GetUtcNow());
        }

        read.ThrowIfFetchFailed();
        if (request.Kind == RequestKind.Query || classifications.All(c => c.Kind is StatementKind.Empty or StatementKind.ReadOnly))
        {
            trace.Path = "read";
            using (trace.Phase("execute"))
            {
                var results = RequestStatements.Run(session, request, classifications, NewExecutor(session, request, deadline));
                read.ThrowIfFetchFailed();
                return new QueryOutcome(results, Committed: false, read.ETag);
            }
        }

        if (request.Flags.At is not null)
        {
            throw new BadRequestException(EngineMessages.WriteOnOldVersion);
        }

        return null;
    }

    /// <summary>
    /// What a lazy read's failed fetch means to the client: the store's own answer (unavailable: 503; a corrupt
    /// database naming the object: 500), the request's deadline passing (timed out), or a fetch the cache found
    /// short (unavailable). A replaced version is started again by the caller.
    /// </summary>
    private static Exception LazyReadFailure(string database, Exception failure, Exception sqlite) => failure switch
    {
        ServerlessDbException or PinnedVersionReplacedException => failure,
        OperationCanceledException => new TimeoutException($"Reading database '{database}' did not finish before the request's deadline: a page it needed was still being fetched.", failure),
        _ => new StorageUnavailableException($"Reading database '{database}' failed: a page could not be fetched ({failure.Message}); SQLite said: {sqlite.Message}", failure),
    };

    private TimeSpan TimeUntil(DateTimeOffset deadline)
    {
        var left = deadline - _time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task<QueryOutcome> WriteAsync(QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        LockLease lease;
        using (trace.Phase("lock"))
        {
            lease = await _lock.AcquireAsync(request.Flags.Database, request.RequestId, cancellationToken);
        }

        try
        {
            return await _conflictRetry.ExecuteAsync(
                async token => await WriteOnceAsync(request, deadline, trace, token),
                cancellationToken);
        }
        finally
        {
            await ReleaseAsync(lease, request.RequestId, deadline, trace);
        }
    }

    // A release that fails must not replace the request's answer: after a commit, a 503 would make the
    // client apply the write twice. It is retried for the time the request has left; a group that
    // still stays until the reaper removes it is logged loudly.
    private async Task ReleaseAsync(LockLease lease, string requestId, DateTimeOffset deadline, RequestTrace trace)
    {
        var timeLeft = deadline - _time.GetUtcNow();
        using var releaseTimeout = new CancellationTokenSource(timeLeft > MinimumReleaseWindow ? timeLeft : MinimumReleaseWindow, _time);
        using (trace.Phase("lock"))
        {
            try
            {
                await _lock.ReleaseAsync(lease, releaseTimeout.Token);
            }
            catch (Exception ex) when (ex is ServerlessDbException or OperationCanceledException)
            {
                using var line = new LogLine(_time, "warn", "lock release failed; the LockReaper will remove the stale lock");
                line.Add("requestId", requestId).Add("database", lease.Database).Add("lockToken", lease.Token).Add("exception", ex).WriteTo(_log);
            }
        }
    }

    private async Task<QueryOutcome> WriteOnceAsync(QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        trace.Attempts++;
        var database = request.Flags.Database;
        if (_capabilities.InPlaceWrites is { } inPlace)
        {
            using var writeDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            writeDeadline.CancelAfter(TimeUntil(deadline));
            InPlaceWrite? write;
            using (trace.Phase("fetch"))
            {
                write = await inPlace.BeginAsync(database, _workingCopies.Folder, writeDeadline.Token, cancellationToken);
            }

            if (write is not null)
            {
                using (write)
                {
                    return await WriteInPlaceAsync(inPlace, write, request, deadline, trace, cancellationToken);
                }
            }
        }

        DatabaseSnapshot snapshot;
        using (trace.Phase("fetch"))
        {
            snapshot = await _store.GetAsync(database, maxStaleness: null, cancellationToken);
        }

        trace.Fetched(snapshot);

        using (snapshot)
        {
            trace.VersionRead = snapshot.ETag.ToString();
            string? workingCopy = _workingCopies.NewScratchPath(".sqlite");
            using (trace.Phase("fetch"))
            {
                try
                {
                    await _store.CopyForWriteAsync(database, snapshot, workingCopy, cancellationToken);
                }
                catch
                {
                    WorkingCopies.Delete(workingCopy);
                    throw;
                }
            }

            try
            {
                var changesBefore = DatabaseFileHeader.ReadChangeCounter(workingCopy);
                Execution execution;
                using (trace.Phase("execute"))
                {
                    execution = Execute(workingCopy, request, deadline);
                }

                if (execution.Replayed)
                {
                    trace.Path = "replay";
                    return QueryOutcome.Replay(execution.Answer!, snapshot.ETag);
                }

                var results = execution.Results;
                if (DatabaseFileHeader.ReadChangeCounter(workingCopy) == changesBefore)
                {
                    return new QueryOutcome(results, Committed: false, snapshot.ETag) { Answer = execution.Answer };
                }

                WorkingCopies.EnsureComplete(workingCopy);
                var copy = workingCopy;
                var committed = await CommitAsync(token => _store.CommitAsync(database, snapshot.ETag, copy, token), trace, cancellationToken);
                workingCopy = null; // the store moved it into its cache
                return new QueryOutcome(results, Committed: true, committed) { Answer = execution.Answer };
            }
            finally
            {
                if (workingCopy is not null)
                {
                    WorkingCopies.Delete(workingCopy);
                }
            }
        }
    }

    /// <summary>
    /// A write on a large chunked database without a local copy: it runs on the pinned version through the lazy VFS,
    /// its changed pages in an overlay in /tmp, and commits only the chunks holding them plus the manifest, through the
    /// same conditional commit, judged and settled as every commit (so a conflict is retried from a fresh pin, and a
    /// lost answer is settled by the lineage). A fetch that failed while the SQL ran answers as a lazy read's does.
    /// </summary>
    private async Task<QueryOutcome> WriteInPlaceAsync(IInPlaceWrites inPlace, InPlaceWrite write, QueryRequest request, DateTimeOffset deadline, RequestTrace trace, CancellationToken cancellationToken)
    {
        var database = request.Flags.Database;
        trace.VersionRead = write.ETag.ToString();
        try
        {
            Execution execution;
            uint changesBefore;
            try
            {
                changesBefore = await write.ChangeCounterAsync(cancellationToken);
                using (trace.Phase("execute"))
                {
                    execution = Execute(write.DataSource, request, deadline);
                }

                write.ThrowIfFetchFailed();
            }
            catch (Exception e) when (write.FirstFailure is { } failure)
            {
                throw LazyReadFailure(database, failure, e);
            }

            if (execution.Replayed)
            {
                trace.Path = "replay";
                return QueryOutcome.Replay(execution.Answer!, write.ETag);
            }

            if (await write.ChangeCounterAsync(cancellationToken) == changesBefore)
            {
                return new QueryOutcome(execution.Results, Committed: false, write.ETag) { Answer = execution.Answer };
            }

            var committed = await CommitAsync(token => inPlace.CommitAsync(database, write, token), trace, cancellationToken);
            return new QueryOutcome(execution.Results, Committed: true, committed) { Answer = execution.Answer };
        }
        finally
        {
            trace.FetchedInPlace(write.Fetches, write.BlockCacheHits);
        }
    }

    private Execution Execute(string workingCopy, QueryRequest request, DateTimeOffset deadline)
    {
        using var session = SqliteSession.OpenWorkingCopy(workingCopy);
        var idempotency = request.Idempotency;

        // Under the lock, on the version this write would be based on: another container may have
        // committed the same key since the first look.
        if (idempotency is not null && FindAnswer(session, request, idempotency) is { } earlier)
        {
            return new Execution([], earlier, Replayed: true);
        }

        var results = RequestStatements.Run(session, request, classifications: null, NewExecutor(session, request, deadline));
        string? answer = null;
        if (idempotency is not null)
        {
            answer = idempotency.RenderAnswer(results);
            IdempotencyRecords.Add(session, request, idempotency, answer, _time.GetUtcNow(), _options.IdempotencyRetention);
        }

        if (_options.QuickCheckBeforeUpload)
        {
            QuickCheck(session);
        }

        return new Execution(results, answer, Replayed: false);
    }

    private string? FindAnswer(SqliteSession session, QueryRequest request, IdempotentWrite idempotency) =>
        IdempotencyRecords.Find(session, request, idempotency, _time.GetUtcNow(), _options.IdempotencyRetention);

    /// <summary>What running a write's statements on its working copy gave: results, and the recorded answer.</summary>
    private sealed record Execution(List<StatementResult> Results, string? Answer, bool Replayed);

    private static void QuickCheck(SqliteSession session)
    {
        var problems = new List<string>();
        session.Query("PRAGMA quick_check", row => problems.Add(row));
        if (problems is not ["ok"])
        {
            throw new InvalidOperationException("PRAGMA quick_check failed before upload: " + string.Join("; ", problems));
        }
    }

    private StatementExecutor NewExecutor(SqliteSession session, QueryRequest request, DateTimeOffset deadline) =>
        new(
            session,
            new ResultBudget(_options.MaxResultBytes),
            readsReturnNoRows: request.Kind == RequestKind.Execute,
            request.Flags.StatementTimeout,
            () => deadline - _time.GetUtcNow());
}

/// <summary>The part of the configuration the engine uses.</summary>
/// <param name="IdempotencyRetention">How long the answer of a write sent with an Idempotency-Key is kept for its retries.</param>
internal sealed record EngineOptions(int WriteAttempts, int MaxResultBytes, bool QuickCheckBeforeUpload, TimeSpan IdempotencyRetention);
