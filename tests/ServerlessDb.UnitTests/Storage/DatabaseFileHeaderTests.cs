using System.Buffers.Binary;
using Microsoft.Data.Sqlite;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

public sealed class DatabaseFileHeaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("serverlessdb-header-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_real_sqlite_database_and_an_empty_file_have_no_problem()
    {
        var real = Path.Combine(_root, "real.sqlite");
        using (var connection = new SqliteConnection($"Data Source={real};Pooling=False"))
        {
            connection.Open();
            using var command = new SqliteCommand("CREATE TABLE t(a); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) INSERT INTO t SELECT randomblob(3000) FROM n", connection);
            command.ExecuteNonQuery();
        }

        Assert.Null(DatabaseFileHeader.FindProblem(real));
        Assert.Null(DatabaseFileHeader.FindProblem(Write([])));
        Assert.Null(DatabaseFileHeader.FindProblem(Write(DatabaseBytes.Valid(pages: 3))));
    }

    [Fact]
    public void A_file_shorter_than_the_header_is_named_with_its_length() =>
        Assert.Equal(
            "it is 99 bytes long, shorter than the 100-byte SQLite header",
            DatabaseFileHeader.FindProblem(Write(DatabaseBytes.Valid()[..99])));

    [Fact]
    public void A_file_without_the_header_string_is_not_sqlite()
    {
        var text = new byte[512];
        "this is not a database, just text"u8.CopyTo(text);

        Assert.Equal(
            "it does not start with the SQLite header string \"SQLite format 3\\0\"",
            DatabaseFileHeader.FindProblem(Write(text)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(1000)]
    [InlineData(4095)]
    public void A_page_size_that_is_not_a_power_of_two_from_512_is_refused(ushort raw)
    {
        var file = DatabaseBytes.Valid();
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(16), raw);

        Assert.Equal(
            $"its page size field (header bytes 16-17) is {raw}, not a power of two from 512 to 32768 or 1 for 65536",
            DatabaseFileHeader.FindProblem(Write(file)));
    }

    [Fact]
    public void The_page_size_value_1_means_65536()
    {
        var file = new byte[65536];
        DatabaseBytes.Valid().AsSpan(0, 100).CopyTo(file);
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(16), 1);

        Assert.Null(DatabaseFileHeader.FindProblem(Write(file)));
    }

    [Theory]
    [InlineData(21, 63)]
    [InlineData(22, 0)]
    [InlineData(23, 64)]
    public void Payload_fractions_other_than_64_32_32_are_refused(int offset, byte value)
    {
        var file = DatabaseBytes.Valid();
        file[offset] = value;
        var expected = new[] { file[21], file[22], file[23] };

        Assert.Equal(
            $"its payload fractions (header bytes 21-23) are {expected[0]}, {expected[1]}, {expected[2]}, not 64, 32, 32",
            DatabaseFileHeader.FindProblem(Write(file)));
    }

    [Fact]
    public void Reserved_bytes_that_leave_fewer_than_480_usable_bytes_are_refused()
    {
        var file = DatabaseBytes.Valid();
        file[20] = 33;

        Assert.Equal(
            "its 33 reserved bytes per page (header byte 20) leave fewer than 480 usable bytes in a 512-byte page",
            DatabaseFileHeader.FindProblem(Write(file)));
        file[20] = 32;
        Assert.Null(DatabaseFileHeader.FindProblem(Write(file)));
    }

    [Fact]
    public void A_length_that_is_not_whole_pages_is_refused() =>
        Assert.Equal(
            "its length, 700 bytes, is not a whole number of 512-byte pages",
            DatabaseFileHeader.FindProblem(Write(DatabaseBytes.Valid(pages: 2)[..700])));

    [Fact]
    public void A_file_shorter_than_its_valid_in_header_size_is_truncated() =>
        Assert.Equal(
            "it is truncated: 1024 bytes (2 pages) where its header says 4 pages of 512 bytes",
            DatabaseFileHeader.FindProblem(Write(DatabaseBytes.Valid(pages: 4)[..1024])));

    [Fact]
    public void An_in_header_size_not_valid_for_the_current_change_counter_is_not_trusted()
    {
        // Written by an old SQLite (before 3.7.0) that did not keep the size: version-valid-for lags behind.
        var file = DatabaseBytes.Valid(pages: 4)[..1024];
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(24), 7);

        Assert.Null(DatabaseFileHeader.FindProblem(Write(file)));
    }

    private string Write(byte[] content)
    {
        var path = Path.Combine(_root, Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(path, content);
        return path;
    }
}
