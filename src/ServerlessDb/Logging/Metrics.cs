namespace ServerlessDb.Logging;

/// <summary>
/// The names of the CloudWatch metrics the log lines carry in Embedded Metric Format (see README,
/// "Metrics and alarms"): one namespace, two low-cardinality dimensions on the request line, none on
/// the reaper's. The template's alarms refer to these names, and a test ties the two.
/// </summary>
public static class Metrics
{
    /// <summary>The one CloudWatch namespace every metric goes to.</summary>
    public const string Namespace = "ServerlessDb";

    /// <summary>Request line dimension: the engine's path, <c>read</c>, <c>write</c> or <c>replay</c>, or <see cref="NoRoute"/>.</summary>
    public const string RouteDimension = "Route";

    /// <summary>Request line dimension: the status class, <c>2xx</c>, <c>4xx</c> or <c>5xx</c>.</summary>
    public const string StatusClassDimension = "StatusClass";

    /// <summary>The route of a request that never reached the engine (status, a bad request, an unknown path).</summary>
    public const string NoRoute = "none";

    public const string Requests = "Requests";
    public const string ServerErrors = "ServerErrors";
    public const string TotalLatency = "TotalLatency";
    public const string WriteAttempts = "WriteAttempts";
    public const string WriteConflicts = "WriteConflicts";
    public const string BytesDownloaded = "BytesDownloaded";
    public const string BytesUploaded = "BytesUploaded";
    public const string CacheHits = "CacheHits";
    public const string CacheRevalidations = "CacheRevalidations";
    public const string CacheDownloads = "CacheDownloads";

    /// <summary>Ranged GETs a lazy read made for the pages its statements read (LAZY_READ_MIN_BYTES); their bytes are in <see cref="BytesDownloaded"/>.</summary>
    public const string RangeReads = "RangeReads";

    /// <summary>Pieces of a lazily read database found in the block cache, each saving a ranged GET.</summary>
    public const string BlockCacheHits = "BlockCacheHits";

    public const string LocksFound = "LocksFound";
    public const string LocksDeleted = "LocksDeleted";
    public const string LocksAlreadyGone = "LocksAlreadyGone";
    public const string LocksKept = "LocksKept";
    public const string LocksDeleteFailed = "LocksDeleteFailed";

    public const string ChunksDeleted = "ChunksDeleted";
    public const string ChunkBytesDeleted = "ChunkBytesDeleted";
    public const string ChunkDeleteFailed = "ChunkDeleteFailed";
    public const string ChunkDatabasesSkipped = "ChunkDatabasesSkipped";

    /// <summary>The latency metric of one phase of a request: <c>fetch</c> becomes <c>FetchLatency</c>.</summary>
    public static string PhaseLatency(string phase) =>
        string.Concat(phase[..1].ToUpperInvariant(), phase[1..], "Latency");

    /// <summary>The status class dimension value of a status code: 503 is <c>5xx</c>.</summary>
    public static string StatusClass(int status) => $"{status / 100}xx";
}

/// <summary>The CloudWatch units the metrics use.</summary>
public enum MetricUnit
{
    Count,
    Milliseconds,
    Bytes,
}
