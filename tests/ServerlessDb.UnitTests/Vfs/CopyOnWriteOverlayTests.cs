using ServerlessDb.Vfs;

namespace ServerlessDb.UnitTests.Vfs;

/// <summary>
/// The overlay's own rules, below what SQLite exercises: partial and spanning writes, growth with a gap, a cut
/// inside a unit followed by growth, and the changed ranges each leaves, over a 100,000-byte base of known bytes.
/// </summary>
public sealed class CopyOnWriteOverlayTests : IDisposable
{
    private const int Unit = CopyOnWriteOverlay.UnitBytes;
    private const int BaseBytes = 100_000;

    private readonly LazyFilesFolder _folder = new("serverlessdb-overlay-");
    private readonly byte[] _base = [.. Enumerable.Range(0, BaseBytes).Select(i => (byte)(i * 7 + i / 251))];
    private readonly LocalFileVersion _version;
    private readonly LazyFileLease _lease;
    private readonly CopyOnWriteOverlay _overlay;

    public CopyOnWriteOverlayTests()
    {
        var basePath = Path.Combine(_folder.Path, "base.bin");
        File.WriteAllBytes(basePath, _base);
        _version = new LocalFileVersion(basePath, 16 * 1024, "base");
        var files = _folder.NewFiles();
        _lease = files.Open(_version, CancellationToken.None);
        var reader = new LazyOpenFile(_lease, files.Cache, new FetchPolicy(LazyReadOptions.DefaultPieceBytes, LazyReadOptions.DefaultMaxFetchBytes));
        _overlay = new CopyOnWriteOverlay(reader, Path.Combine(_folder.Path, "slots.overlay"));
    }

    public void Dispose()
    {
        _overlay.Dispose();
        _lease.Dispose();
        _version.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void A_write_inside_one_unit_keeps_the_rest_of_the_unit_from_the_base()
    {
        Write(Unit + 1024, Filled(512, 0xAB));

        Assert.Equal(Expected((Unit + 1024, Filled(512, 0xAB))), ReadAll());
        Assert.Equal(Unit, _overlay.OverlayBytes);
        Assert.Equal([(Unit, (long)Unit)], _overlay.ChangedRanges());
        Assert.Equal(BaseBytes, _overlay.Length);
    }

    [Fact]
    public void A_write_spanning_units_changes_each_and_their_ranges_merge()
    {
        Write(2048, Filled(2 * Unit, 0x11));
        Write(5 * Unit, Filled(Unit, 0x22));

        Assert.Equal(Expected((2048, Filled(2 * Unit, 0x11)), (5 * Unit, Filled(Unit, 0x22))), ReadAll());
        Assert.Equal(4 * Unit, _overlay.OverlayBytes);
        Assert.Equal([(0, 3L * Unit), (5 * Unit, (long)Unit)], _overlay.ChangedRanges());
    }

    [Fact]
    public void A_write_past_the_end_grows_the_file_and_the_gap_reads_as_zeros()
    {
        Write(BaseBytes + 5000, Filled(100, 0x33));

        Assert.Equal(BaseBytes + 5100, _overlay.Length);
        Assert.Equal(Expected((BaseBytes, new byte[5000]), (BaseBytes + 5000, Filled(100, 0x33))), ReadAll());
        Assert.Equal([((long)BaseBytes, 5100L)], _overlay.ChangedRanges());
    }

    [Fact]
    public void A_cut_inside_a_unit_then_growth_never_shows_the_base_bytes_past_the_cut()
    {
        Write(10 * Unit, Filled(Unit, 0x44));
        _overlay.Truncate(10 * Unit + 100);
        Assert.Equal([(10L * Unit, 100L)], _overlay.ChangedRanges());
        Assert.Equal(10 * Unit + 100, _overlay.Length);

        Write(60_000, Filled(10, 0x55));

        var expected = _base.AsSpan(0, 60_010).ToArray();
        Filled(100, 0x44).CopyTo(expected, 10 * Unit);
        Array.Clear(expected, 10 * Unit + 100, 60_000 - (10 * Unit + 100));
        Filled(10, 0x55).CopyTo(expected, 60_000);
        Assert.Equal(expected, ReadAll());
        Assert.Equal([(10L * Unit, 60_010L - 10 * Unit)], _overlay.ChangedRanges());
    }

    [Fact]
    public void A_cut_below_the_written_units_forgets_them_and_reuses_their_slots()
    {
        Write(20 * Unit, Filled(2 * Unit, 0x66));
        _overlay.Truncate(8 * Unit);
        Write(3 * Unit, Filled(Unit, 0x77));

        Assert.Equal(Expected((3 * Unit, Filled(Unit, 0x77)))[..(8 * Unit)], ReadAll());
        Assert.Equal(2 * Unit, _overlay.OverlayBytes);
        Assert.Equal([(3L * Unit, (long)Unit)], _overlay.ChangedRanges());
    }

    [Fact]
    public void A_read_past_the_length_is_an_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _overlay.Read(new byte[10], BaseBytes - 5, CancellationToken.None));
    }

    private void Write(long offset, byte[] data) => _overlay.Write(data, offset, CancellationToken.None);

    private byte[] ReadAll()
    {
        var bytes = new byte[_overlay.Length];
        _overlay.Read(bytes, 0, CancellationToken.None);
        return bytes;
    }

    /// <summary>The base with <paramref name="writes"/> applied in order, grown as they need.</summary>
    private byte[] Expected(params (long Offset, byte[] Data)[] writes)
    {
        var length = writes.Select(write => write.Offset + write.Data.Length).Append(BaseBytes).Max();
        var expected = new byte[length];
        _base.CopyTo(expected, 0);
        foreach (var (offset, data) in writes)
        {
            data.CopyTo(expected, offset);
        }

        return expected;
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();
}
