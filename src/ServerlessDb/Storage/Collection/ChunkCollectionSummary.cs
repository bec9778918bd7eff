using ServerlessDb.Logging;

namespace ServerlessDb.Storage.Collection;

/// <summary>
/// What one pass of an <see cref="IChunkCollector"/> found and did. Every chunk version the pass listed, in the
/// databases it did not skip, is counted once: deleted, failed, kept (a stored manifest names it) or young
/// (named by none, but newer than the grace period, so a commit in progress may still name it).
/// </summary>
public sealed record ChunkCollectionSummary
{
    /// <summary>Databases with a chunk folder that the pass judged (those skipped are not counted).</summary>
    public required int Databases { get; init; }

    /// <summary>Manifest versions read (HEAD then GET) to learn which chunks are referenced.</summary>
    public required int Manifests { get; init; }

    /// <summary>Chunk versions deleted by version id.</summary>
    public required int Deleted { get; init; }

    /// <summary>The bytes the deleted chunk versions held.</summary>
    public required long DeletedBytes { get; init; }

    /// <summary>Chunk versions some stored manifest version names.</summary>
    public required int Kept { get; init; }

    /// <summary>Unreferenced chunk versions newer than the grace period, kept for a commit that may be in progress.</summary>
    public required int Young { get; init; }

    /// <summary>Chunk versions S3 refused to delete (logged with the reason); the next pass tries again.</summary>
    public required int Failed { get; init; }

    /// <summary>Databases for which nothing was deleted, each with the reason (a manifest unread or unparseable, a listing failed).</summary>
    public required IReadOnlyList<SkippedDatabase> Skipped { get; init; }

    /// <summary>Why the whole pass deleted nothing (the bucket is not versioned), or null.</summary>
    public string? Refused { get; init; }

    /// <summary>Adds the counts to a pass's log line, with their metrics.</summary>
    internal LogLine AddTo(LogLine line) => line
        .Add("databases", Databases)
        .Add("manifests", Manifests)
        .Add("deleted", Deleted)
        .Add("deletedBytes", DeletedBytes)
        .Add("kept", Kept)
        .Add("young", Young)
        .Add("failed", Failed)
        .Add("skipped", [.. Skipped.Select(s => $"{s.Database}: {s.Reason}")])
        .Add("refused", Refused)
        .Metric(Metrics.ChunksDeleted, MetricUnit.Count, Deleted)
        .Metric(Metrics.ChunkBytesDeleted, MetricUnit.Bytes, DeletedBytes)
        .Metric(Metrics.ChunkDeleteFailed, MetricUnit.Count, Failed)
        .Metric(Metrics.ChunkDatabasesSkipped, MetricUnit.Count, Skipped.Count + (Refused is null ? 0 : 1));
}

/// <summary>A database whose chunks a pass left alone, and why.</summary>
public sealed record SkippedDatabase(string Database, string Reason);
