namespace ServerlessDb.Storage;

/// <summary>
/// What one revalidation of a cached database found: the cached version is still current
/// (<see cref="Unchanged"/>), the database is missing, or a new version was downloaded to
/// <see cref="DownloadedFile"/>, a temporary file in the database's cache folder, from
/// <see cref="Source"/> (where the object lives, for messages).
/// </summary>
/// <remarks>
/// A file that is not byte for byte the stored object (the store put it together) says so (<see cref="IsStoredObject"/>),
/// and how many bytes it fetched (<see cref="BytesFetched"/>; otherwise the file's length is what moved).
/// </remarks>
internal readonly record struct FetchedVersion(DatabaseETag Version, string? DownloadedFile, bool Unchanged, string? Source = null)
{
    /// <summary>The downloaded file is byte for byte the stored object; the store says when it is not.</summary>
    public bool IsStoredObject { get; init; } = true;

    public long? BytesFetched { get; init; }

    /// <summary>The bytes the fetch moved: <see cref="BytesFetched"/> when it says, else the downloaded file's length.</summary>
    public long BytesMoved => BytesFetched ?? (DownloadedFile is { } file ? new FileInfo(file).Length : 0);

    public static FetchedVersion StillCurrent => new(default, null, Unchanged: true);

    public static FetchedVersion Missing => new(DatabaseETag.Missing, null, Unchanged: false);

    public static FetchedVersion Downloaded(DatabaseETag version, string file, string source) => new(version, file, Unchanged: false, source);
}
