using System.Globalization;
using ServerlessDb.Errors;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Vfs;

namespace ServerlessDb.Storage;

/// <summary>
/// The store's read side by range: the current version of a database pinned, as the lazy reader (<see cref="LazyFiles"/>)
/// opens it, without a local file. A chunked version's blocks are its chunks (content-addressed, so nothing can replace
/// their bytes); a whole-file version's are fixed windows of the one object, each fetched by a ranged GET conditional on
/// the pinned ETag, so a read never mixes versions: a commit that replaces the object makes the next fetch fail, never
/// serve other bytes. Every fetch is one backend call under <see cref="BackendRetry"/>, within the caller's token.
/// </summary>
internal sealed class PinnedVersions
{
    /// <summary>The window of a whole-file object that is one block of the lazy reader's cache.</summary>
    public const int WholeFileBlockBytes = 2 * 1024 * 1024;

    private readonly IObjectBackend _objects;
    private readonly ObjectKeys _keys;
    private readonly BackendRetry _retry;

    public PinnedVersions(IObjectBackend objects, string prefix, TimeProvider time, TimeSpan retryDeadline)
    {
        ArgumentNullException.ThrowIfNull(objects);
        _objects = objects;
        _keys = new ObjectKeys(prefix);
        _retry = new BackendRetry(time, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), retryDeadline, deadlineEndsAttempt: true);
    }

    /// <summary>The current version of <paramref name="database"/> pinned by its ETag; null when the database does not exist.</summary>
    /// <exception cref="DatabaseCorruptException">the stored object is a manifest that does not parse.</exception>
    /// <exception cref="BackendRetryExpiredException">the backend did not answer within the retry deadline.</exception>
    public async Task<IPinnedVersion?> PinCurrentAsync(string database, CancellationToken cancellationToken)
    {
        var key = _keys.Database(database);
        var head = await _retry.RunAsync(token => _objects.HeadAsync(key, ObjectSelector.Current, token), cancellationToken);
        if (head is null)
        {
            return null;
        }

        var description = $"{_objects.Describe(key)} (ETag {head.ETag})";
        if (!StoredMetadata.IsManifest(head.Metadata))
        {
            return new Pinned(description, head.Size, WholeFileBlocks(key, head));
        }

        var manifest = await _retry.RunAsync(async token =>
        {
            var read = await _objects.GetSmallAsync(key, new ObjectSelector(IfMatch: head.ETag), ChunkManifest.MaxBytes, token);
            return read is { IsWhole: true } ? read.Content : throw new DatabaseCorruptException(database, description, "its manifest is larger than a manifest can be");
        }, cancellationToken);
        ChunkManifest parsed;
        try
        {
            parsed = ChunkManifest.Parse(manifest);
        }
        catch (FormatException e)
        {
            throw new DatabaseCorruptException(database, description, e.Message, e);
        }

        return new Pinned(description, parsed.Length, [.. parsed.Chunks.Select(chunk => (IPinnedBlock)new Block(
            chunk.Offset, chunk.Length, chunk.Sha256, this, _keys.Chunk(database, chunk.Sha256), IfMatch: null))]);
    }

    private List<IPinnedBlock> WholeFileBlocks(string key, ObjectInfo head)
    {
        var blocks = new List<IPinnedBlock>();
        for (long offset = 0; offset < head.Size; offset += WholeFileBlockBytes)
        {
            var length = (int)Math.Min(WholeFileBlockBytes, head.Size - offset);
            blocks.Add(new Block(offset, length, string.Create(CultureInfo.InvariantCulture, $"{head.ETag}:{offset}"), this, key, IfMatch: head.ETag, ObjectOffset: offset));
        }

        return blocks;
    }

    /// <summary>Reads <paramref name="into"/>'s length of bytes of <paramref name="key"/> from <paramref name="offset"/>, on condition of <paramref name="ifMatch"/>.</summary>
    private Task<int> ReadRangeAsync(string key, string? ifMatch, long offset, Memory<byte> into, CancellationToken cancellationToken) =>
        _retry.RunAsync(async token =>
        {
            using var read = await _objects.GetAsync(key, new ObjectSelector(IfMatch: ifMatch, Range: new ObjectRange(offset, into.Length)), token);
            if (read.Body is null)
            {
                throw new IOException($"{_objects.Describe(key)} is gone: a pinned block cannot be read.");
            }

            var total = 0;
            int count;
            while (total < into.Length && (count = await read.Body.ReadAsync(into[total..], token)) > 0)
            {
                total += count;
            }

            return total;
        }, cancellationToken);

    private sealed record Pinned(string Description, long Length, IReadOnlyList<IPinnedBlock> Blocks) : IPinnedVersion;

    private sealed record Block(long Offset, int Length, string ContentKey, PinnedVersions Owner, string Key, string? IfMatch, long ObjectOffset = 0) : IPinnedBlock
    {
        public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken) =>
            await Owner.ReadRangeAsync(Key, IfMatch, ObjectOffset + offsetInBlock, into, cancellationToken);
    }
}
