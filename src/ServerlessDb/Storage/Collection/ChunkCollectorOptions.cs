namespace ServerlessDb.Storage.Collection;

/// <summary>What <see cref="ChunkCollector"/> is configured with.</summary>
/// <param name="Prefix">the databases' key prefix; the chunks of NAME live under <c>{Prefix}_chunks/NAME/</c>.</param>
/// <param name="Grace">
/// an unreferenced chunk version is deleted only once it is older than this, counted back from when the pass
/// started listing the database's manifests; the configuration keeps it longer than the QueryRunner's timeout,
/// the longest a commit can take from uploading its chunks to committing its manifest.
/// </param>
internal sealed record ChunkCollectorOptions(string Prefix, TimeSpan Grace)
{
    public static readonly TimeSpan DefaultRetryWindow = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan DefaultTimeBudget = TimeSpan.FromSeconds(30);

    /// <summary>How long one backend call is retried while the backend throttles it or does not answer.</summary>
    public TimeSpan RetryWindow { get; init; } = DefaultRetryWindow;

    /// <summary>
    /// No database is started once the pass has run this long (the reaper's Lambda timeout is 50 s); those left
    /// are skipped and named, and the next pass starts with them.
    /// </summary>
    public TimeSpan TimeBudget { get; init; } = DefaultTimeBudget;

    /// <summary>The most pages one listing may take (1000 entries each); a longer one skips its database.</summary>
    public int MaxPages { get; init; } = 10_000;
}
