using System.Text;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// The chunked layout's local side: how a file is cut into chunks, which chunks a commit uploads against its base,
/// how a file is put together again from a cached basis and fetched chunks, and what a manifest must say to be read.
/// </summary>
public sealed class ChunkedFilesTests : IDisposable
{
    private const int Chunk = ChunkManifest.ChunkAlignment;
    private readonly string _folder = Directory.CreateTempSubdirectory("serverlessdb-chunks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteFile(byte[] bytes)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    // Fetches chunks from the bytes of the file they came from, counting which were asked for.
    private static Func<ChunkRef, ChunkSink, CancellationToken, Task> FetchFrom(byte[] source, List<long> fetched) => async (chunk, sink, token) =>
    {
        lock (fetched)
        {
            fetched.Add(chunk.Offset);
        }

        await sink.WriteAsync(new MemoryStream(source, (int)chunk.Offset, chunk.Length), "test", token);
    };

    [Fact]
    public async Task A_file_is_cut_into_fixed_size_chunks_that_tile_it_and_each_is_named_by_its_sha256()
    {
        var bytes = RandomBytes((3 * Chunk) + 1000, seed: 1);
        var commit = await ChunkedFiles.DescribeAsync(WriteFile(bytes), Chunk, basedOn: null, default);

        Assert.Equal(bytes.Length, commit.Manifest.Length);
        Assert.Equal([0L, Chunk, 2L * Chunk, 3L * Chunk], commit.Manifest.Chunks.Select(c => c.Offset));
        Assert.Equal([Chunk, Chunk, Chunk, 1000], commit.Manifest.Chunks.Select(c => c.Length));
        Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.AsSpan(Chunk, Chunk))),
            commit.Manifest.Chunks[1].Sha256);
        Assert.Equal(4, commit.ToUpload.Count);
    }

    [Fact]
    public async Task Against_its_base_a_commit_uploads_only_the_chunks_it_changed_and_identical_chunks_once()
    {
        var original = RandomBytes(4 * Chunk, seed: 2);
        var based = (await ChunkedFiles.DescribeAsync(WriteFile(original), Chunk, null, default)).Manifest;
        var changed = (byte[])original.Clone();
        changed[(2 * Chunk) + 17] ^= 0xFF;
        var grown = changed.Concat(original.AsSpan(0, Chunk).ToArray()).Concat(original.AsSpan(0, Chunk).ToArray()).ToArray();

        var commit = await ChunkedFiles.DescribeAsync(WriteFile(grown), Chunk, based, default);

        // Chunk 2 changed; chunks 4 and 5 repeat chunk 0, which the base holds.
        Assert.Equal([2L * Chunk], commit.ToUpload.Select(c => c.Offset));
        Assert.Equal(Chunk, commit.UploadBytes);
        Assert.Equal(based.Chunks[0].Sha256, commit.Manifest.Chunks[5].Sha256);
    }

    [Fact]
    public async Task A_file_put_together_from_a_cached_basis_fetches_only_the_chunks_the_basis_lacks_and_equals_the_original()
    {
        var original = RandomBytes(4 * Chunk, seed: 3);
        var basisPath = WriteFile(original);
        var basis = (await ChunkedFiles.DescribeAsync(basisPath, Chunk, null, default)).Manifest;
        var next = (byte[])original.Clone();
        next[(3 * Chunk) + 5] ^= 0x01;
        Array.Copy(original, 0, next, Chunk, Chunk); // chunk 1 now repeats chunk 0: copied locally, not fetched
        var target = (await ChunkedFiles.DescribeAsync(WriteFile(next), Chunk, basis, default)).Manifest;
        var fetched = new List<long>();
        var output = Path.Combine(_folder, "assembled");

        var bytes = await ChunkedFiles.AssembleAsync(target, output, new ChunkedBasis(basisPath, basis), FetchFrom(next, fetched), default);

        Assert.Equal(next, await File.ReadAllBytesAsync(output));
        Assert.Equal([3L * Chunk], fetched);
        Assert.Equal(Chunk, bytes);
    }

    [Fact]
    public async Task A_file_shorter_than_its_basis_is_cut_to_its_length()
    {
        var original = RandomBytes(3 * Chunk, seed: 4);
        var basisPath = WriteFile(original);
        var basis = (await ChunkedFiles.DescribeAsync(basisPath, Chunk, null, default)).Manifest;
        var shorter = original.AsSpan(0, Chunk + 512).ToArray();
        var target = (await ChunkedFiles.DescribeAsync(WriteFile(shorter), Chunk, basis, default)).Manifest;
        var output = Path.Combine(_folder, "assembled");

        await ChunkedFiles.AssembleAsync(target, output, new ChunkedBasis(basisPath, basis), FetchFrom(shorter, []), default);

        Assert.Equal(shorter, await File.ReadAllBytesAsync(output));
    }

    [Fact]
    public async Task A_fetched_chunk_whose_bytes_differ_from_the_manifest_is_refused_and_nothing_is_left_behind()
    {
        var original = RandomBytes(2 * Chunk, seed: 5);
        var target = (await ChunkedFiles.DescribeAsync(WriteFile(original), Chunk, null, default)).Manifest;
        var damaged = (byte[])original.Clone();
        damaged[Chunk + 1] ^= 0x40;
        var output = Path.Combine(_folder, "assembled");

        var error = await Assert.ThrowsAsync<TransferCorruptedException>(
            () => ChunkedFiles.AssembleAsync(target, output, null, FetchFrom(damaged, []), default));

        Assert.Contains("XXH128", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task A_manifest_reads_back_as_written()
    {
        var manifest = (await ChunkedFiles.DescribeAsync(WriteFile(RandomBytes((2 * Chunk) + 3, seed: 6)), Chunk, null, default)).Manifest;

        var read = ChunkManifest.Parse(manifest.ToJson());

        Assert.Equal(manifest.Length, read.Length);
        Assert.Equal(manifest.ChunkSize, read.ChunkSize);
        Assert.Equal(manifest.Chunks, read.Chunks);
    }

    [Theory]
    [InlineData("""{"format":"other","length":0,"page_size":0,"chunk_size":65536,"chunks":[]}""", "manifest")]
    [InlineData("""{"format":"serverlessdb-chunked-v1","length":10,"page_size":0,"chunk_size":65536,"chunks":[]}""", "hold 0 bytes")]
    [InlineData("""{"format":"serverlessdb-chunked-v1","length":0,"page_size":0,"chunk_size":1000,"chunks":[]}""", "chunk size")]
    [InlineData("""{"format":"serverlessdb-chunked-v1","length":10,"page_size":0,"chunk_size":65536,"chunks":[{"offset":5,"length":10,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","xxh128":"00000000000000000000000000000000"}]}""", "does not follow")]
    [InlineData("""{"format":"serverlessdb-chunked-v1","length":10,"page_size":0,"chunk_size":65536,"chunks":[{"offset":0,"length":10,"sha256":"../../etc","xxh128":"00000000000000000000000000000000"}]}""", "hex")]
    [InlineData("""{"format":"serverlessdb-chunked-v1","length":10,"page_size":0,"chunk_size":65536,"chunks":[{"offset":0,"length":10,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","xxh128":"00000000000000000000000000000000","piece_crc32":"0000"}]}""", "hex")]
    [InlineData("SQLite format 3\u0000", "JSON")]
    public void A_manifest_that_does_not_tile_its_file_with_hex_named_chunks_is_refused(string json, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ChunkManifest.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_new_chunk_records_a_crc32_per_piece_that_finds_a_damaged_byte_in_any_whole_piece_fetched()
    {
        const int ChunkBytes = 8 * ChunkManifest.ChunkAlignment;
        var bytes = RandomBytes(ChunkBytes + 5000, seed: 7);
        var chunks = ChunkManifest.Parse((await ChunkedFiles.DescribeAsync(WriteFile(bytes), ChunkBytes, null, default)).Manifest.ToJson()).Chunks;
        var first = chunks[0];
        Assert.Equal(ChunkRef.PieceCount(ChunkBytes) * 8, first.PieceCrc32s!.Length);
        Assert.Equal(8, chunks[1].PieceCrc32s!.Length);

        // The second and third pieces, as a lazy reader fetches them: intact, then with one byte flipped in the third.
        var fetched = bytes.AsSpan(ChunkManifest.PieceBytes, 2 * ChunkManifest.PieceBytes).ToArray();
        Assert.Null(first.FindDamage(ChunkManifest.PieceBytes, fetched));
        fetched[ChunkManifest.PieceBytes + 77] ^= 0x01;
        Assert.Contains("piece 2", first.FindDamage(ChunkManifest.PieceBytes, fetched), StringComparison.Ordinal);

        // A fetch that holds no whole piece cannot be checked; a manifest from before piece checksums checks nothing.
        Assert.Null(first.FindDamage(10, fetched.AsSpan(0, 1000)));
        Assert.Null((first with { PieceCrc32s = null }).FindDamage(ChunkManifest.PieceBytes, fetched));
        Assert.Contains("piece 0", chunks[1].FindDamage(0, new byte[5000]), StringComparison.Ordinal);
    }
}
