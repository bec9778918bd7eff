namespace ServerlessDb.Vfs;

/// <summary>
/// An immutable byte range of a pinned version, and the one way to fetch parts of it. Its
/// <see cref="ContentKey"/> names its bytes, not its place: the same key wherever the same bytes live (a chunk's
/// SHA-256 in the chunked layout; <c>etag:offset</c> for a window of a whole-file object), so the block cache shares
/// it between versions and connections. Two blocks with one key must hold the same bytes and have the same length.
/// </summary>
internal interface IPinnedBlock
{
    /// <summary>Where the block starts in the file.</summary>
    long Offset { get; }

    /// <summary>The block's length in bytes (at most <see cref="LazyReadOptions.MaxBlockBytes"/>).</summary>
    int Length { get; }

    /// <summary>Names the block's bytes; it is the block cache's key.</summary>
    string ContentKey { get; }

    /// <summary>
    /// Fetches <c>into.Length</c> bytes of the block starting at <paramref name="offsetInBlock"/> (a chunk: a ranged
    /// GET of the chunk's object; a window of a whole-file object: a ranged GET on condition of the pinned ETag) and
    /// returns how many it wrote. Anything but <c>into.Length</c> is a failure the caller reports; bytes that are not
    /// the block's (a version replaced under a conditional GET, a checksum that disagrees) must be an exception.
    /// </summary>
    ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken);
}
