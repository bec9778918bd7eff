using Microsoft.Win32.SafeHandles;

using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>
/// A pinned version over a local file, cut into fixed-size blocks keyed <c>etag:offset</c> as a whole-file object's
/// windows would be, that counts what it is asked for and can be made to fail: a hook before each fetch (throw,
/// hang) and a number of bytes to report short.
/// </summary>
internal sealed class LocalFileVersion : IPinnedVersion, IDisposable
{
    private readonly SafeFileHandle _file;
    private int _fetches;
    private long _fetchedBytes;

    public LocalFileVersion(string path, int blockBytes, string etag)
    {
        _file = File.OpenHandle(path);
        Length = RandomAccess.GetLength(_file);
        Description = $"{path} ({etag})";
        var blocks = new List<IPinnedBlock>();
        for (long offset = 0; offset < Length; offset += blockBytes)
        {
            blocks.Add(new Block(this, offset, (int)Math.Min(blockBytes, Length - offset), $"{etag}:{offset}"));
        }

        Blocks = blocks;
    }

    public string Description { get; }

    public long Length { get; }

    public IReadOnlyList<IPinnedBlock> Blocks { get; }

    /// <summary>Runs before every fetch, under the fetch's token: a test's way to fail, delay or hang one.</summary>
    public Func<CancellationToken, Task>? BeforeFetch { get; set; }

    /// <summary>How many bytes fewer than asked every fetch reports.</summary>
    public int ReportShortBy { get; set; }

    public int Fetches => Volatile.Read(ref _fetches);

    public long FetchedBytes => Interlocked.Read(ref _fetchedBytes);

    public void Dispose() => _file.Dispose();

    private async ValueTask<int> FetchAsync(long offset, Memory<byte> into, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fetches);
        Interlocked.Add(ref _fetchedBytes, into.Length);
        if (BeforeFetch is { } hook)
        {
            await hook(cancellationToken);
        }

        var read = await RandomAccess.ReadAsync(_file, into, offset, cancellationToken);
        return read - ReportShortBy;
    }

    private sealed class Block(LocalFileVersion version, long offset, int length, string contentKey) : IPinnedBlock
    {
        public long Offset { get; } = offset;

        public int Length { get; } = length;

        public string ContentKey { get; } = contentKey;

        public ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken) =>
            version.FetchAsync(Offset + offsetInBlock, into, cancellationToken);
    }
}
