using System.Globalization;

using Microsoft.Win32.SafeHandles;

using ServerlessDb.Vfs;

namespace ServerlessDb.Benchmarks;

/// <summary>
/// A pinned version over a local file in blocks of <c>blockBytes</c>, as a chunked version's chunks would be, that
/// records every fetch asked of it (on S3, a ranged GET each): the lazy VFS with the network taken away.
/// </summary>
internal sealed class LocalFileVersion : IPinnedVersion, IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly List<(long Offset, int Length)> _fetches = [];

    public LocalFileVersion(string path, int blockBytes)
    {
        _file = File.OpenHandle(path);
        Length = RandomAccess.GetLength(_file);
        var blocks = new List<IPinnedBlock>();
        for (long offset = 0; offset < Length; offset += blockBytes)
        {
            blocks.Add(new Block(this, offset, (int)Math.Min(blockBytes, Length - offset)));
        }

        Blocks = blocks;
    }

    public string Description => "a local file";

    public long Length { get; }

    public IReadOnlyList<IPinnedBlock> Blocks { get; }

    /// <summary>The fetches so far, in the order they were asked for: file offset and length.</summary>
    public List<(long Offset, int Length)> Fetches
    {
        get
        {
            lock (_fetches)
            {
                return [.. _fetches];
            }
        }
    }

    public void Dispose() => _file.Dispose();

    private sealed class Block(LocalFileVersion version, long offset, int length) : IPinnedBlock
    {
        public long Offset { get; } = offset;

        public int Length { get; } = length;

        public string ContentKey { get; } = string.Create(CultureInfo.InvariantCulture, $"local:{offset}");

        public async ValueTask<int> FetchAsync(int offsetInBlock, Memory<byte> into, CancellationToken cancellationToken)
        {
            lock (version._fetches)
            {
                version._fetches.Add((Offset + offsetInBlock, into.Length));
            }

            return await RandomAccess.ReadAsync(version._file, into, Offset + offsetInBlock, cancellationToken);
        }
    }
}
