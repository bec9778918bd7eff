using ServerlessDb.Logging;
using ServerlessDb.Storage;

namespace ServerlessDb.Locking.S3;

/// <summary>
/// Removes the lease objects of writers that died (LOCK_BACKEND=s3): lists <c>{prefix}_locks/</c> and
/// deletes each lease that is past its own expiry and older than <see cref="ExpiredLeaseReaperOptions.StaleAfter"/>
/// (which the configuration keeps longer than the QueryRunner's timeout), with <c>If-Match</c> the ETag it
/// read, so a lease released and taken again since is never deleted. Writers take expired leases over
/// themselves; the reaper only keeps expired ones from lingering. The summary, log line and metrics are
/// the EC2 reaper's.
/// </summary>
internal sealed class ExpiredLeaseReaper : ILockReaper
{
    private readonly LeaseObjects _leases;
    private readonly ExpiredLeaseReaperOptions _options;
    private readonly ObjectKeys _keys;
    private readonly TimeProvider _time;
    private readonly ILogSink _log;
    private readonly BackendRetry _retry;

    /// <param name="objects">the bucket the options name, one request per call: the retries are the reaper's, around it.</param>
    public ExpiredLeaseReaper(IObjectBackend objects, ExpiredLeaseReaperOptions options, TimeProvider timeProvider, ILogSink log)
    {
        ArgumentNullException.ThrowIfNull(objects);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(log);
        _leases = new LeaseObjects(objects);
        _options = options;
        _keys = new ObjectKeys(options.Prefix);
        _time = timeProvider;
        _log = log;
        _retry = BackendRetry.ForPass(timeProvider, options.RetryWindow, LeaseObjects.IsConflict);
    }

    /// <exception cref="ObjectBackendException">S3 refused to list the leases: nothing was judged, the invocation should fail.</exception>
    /// <exception cref="BackendRetryExpiredException">S3 kept failing to list the leases for the retry window: the same.</exception>
    public async Task<ReapSummary> ReapOnceAsync(string? trigger, CancellationToken cancellationToken)
    {
        var folder = _keys.LeaseFolder;
        var keys = new List<string>();
        string? continuation = null;
        do
        {
            var page = await RetryAsync(token => _leases.ListAsync(folder, continuation, token), cancellationToken);
            keys.AddRange(page.Keys.Where(k => _keys.DatabaseOfLease(k) is not null));
            continuation = page.NextContinuation;
        }
        while (!string.IsNullOrEmpty(continuation));

        // One "now" for the whole pass: leases only get older while it runs.
        var now = _time.GetUtcNow();
        List<string> deleted = [], gone = [], kept = [], failed = [];
        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            (await ReapAsync(key, now, cancellationToken) switch
            {
                Outcome.Deleted => deleted,
                Outcome.AlreadyGone => gone,
                Outcome.Kept => kept,
                _ => failed,
            }).Add(key);
        }

        var summary = new ReapSummary { DeletedGroups = deleted, AlreadyGoneGroups = gone, KeptGroups = kept, FailedGroups = failed };
        using (var line = new LogLine(_time, summary.Failed > 0 ? "warn" : "info", "lock reaper pass"))
        {
            line.Add("trigger", trigger)
                .Add("lockBackend", "s3")
                .Add("leases", _leases.Describe(folder))
                .Add("staleSeconds", (long)_options.StaleAfter.TotalSeconds);
            summary.AddTo(line).WriteTo(_log);
        }

        return summary;
    }

    private async Task<Outcome> ReapAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        StoredLease? lease = null;
        try
        {
            lease = await RetryAsync(token => _leases.ReadAsync(key, token), cancellationToken);
            if (lease is null)
            {
                LogLease("info", "lease already gone: its holder released it", key, lease);
                return Outcome.AlreadyGone;
            }

            // Both the lease's own expiry and the reaper's threshold, which the configuration keeps above the
            // QueryRunner's timeout: a writer configured with a shorter lease still never loses a live one here.
            var startedAt = lease.Lease?.AcquiredAt ?? lease.LastModified;
            if (now <= lease.ExpiresAt(_options.StaleAfter) || now - startedAt <= _options.StaleAfter)
            {
                return Outcome.Kept;
            }

            await RetryAsync(async token => { await _leases.DeleteAsync(key, lease.ETag, token); return true; }, cancellationToken);
            LogLease(lease.Lease is null ? "warn" : "info", lease.Lease is null ? "unreadable stale lease deleted" : "stale lease deleted", key, lease);
            return Outcome.Deleted;
        }
        catch (Exception e) when (LeaseObjects.IsConditionFailed(e))
        {
            LogLease("info", "stale lease already gone: its holder released it, or a writer took it over since it was read", key, lease);
            return Outcome.AlreadyGone;
        }
        catch (Exception e) when (e is ObjectBackendException or BackendRetryExpiredException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogLease("error", $"stale lease not deleted: S3 kept failing for {_options.RetryWindow.TotalSeconds:0.###} s ({ObjectBackendException.Describe(e)}); the next pass tries again", key, lease, e);
            return Outcome.Failed;
        }
    }

    /// <summary>One S3 call, retried through S3's transient failures and 409 conflicts for <see cref="ExpiredLeaseReaperOptions.RetryWindow"/>.</summary>
    private Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) => _retry.RunAsync(call, cancellationToken);

    private void LogLease(string level, string message, string key, StoredLease? lease, Exception? exception = null)
    {
        using var line = new LogLine(_time, level, message);
        line.Add("lease", _leases.Describe(key))
            .Add("etag", lease?.ETag)
            .Add("holder", lease?.Lease?.Holder)
            .Add("expiresAt", lease?.Lease?.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture))
            .Add("exception", exception)
            .WriteTo(_log);
    }

    private enum Outcome
    {
        Deleted,
        AlreadyGone,
        Kept,
        Failed,
    }
}

/// <summary>What <see cref="ExpiredLeaseReaper"/> is configured with.</summary>
/// <param name="Bucket">the bucket holding the databases and their leases.</param>
/// <param name="Prefix">the databases' key prefix; the leases live under <c>{Prefix}_locks/</c>.</param>
/// <param name="StaleAfter">
/// a lease is deleted only once it is past its own expiry and older than this, which the configuration
/// keeps longer than the QueryRunner's timeout, so a live lease is never taken.
/// </param>
internal sealed record ExpiredLeaseReaperOptions(string Bucket, string Prefix, TimeSpan StaleAfter)
{
    public static readonly TimeSpan DefaultRetryWindow = TimeSpan.FromSeconds(10);

    /// <summary>How long one S3 call is retried while S3 throttles it or does not answer.</summary>
    public TimeSpan RetryWindow { get; init; } = DefaultRetryWindow;
}
