using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Configuration;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// End-to-end integrity without the SDK's checksums: a commit sends the file's CRC32 as the object's checksum and
/// metadata; a download asks for the whole object as a range, checks what it wrote against that CRC32, and
/// downloads again when the bytes differ.
/// </summary>
public sealed class S3TransferIntegrityTests : IDisposable
{
    private const string Db = "shop";
    private static readonly string Key = new ObjectKeys(ServerlessDbOptions.DefaultPrefix).Database(Db);
    private readonly string _root = Directory.CreateTempSubdirectory("sdb-integrity-").FullName;
    private readonly Mock<IAmazonS3> _s3 = new(MockBehavior.Strict);
    private readonly List<GetObjectRequest> _gets = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private DatabaseStore NewStore() =>
        (TestStoreOptions.For("bucket", TimeSpan.FromSeconds(5)) with { OverTls = true }).CreateStore(_s3.Object, Path.Combine(_root, "cache"), TimeProvider.System, TimeSpan.FromMilliseconds(5));

    private static string Crc32Of(byte[] bytes)
    {
        Span<byte> value = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.HashToUInt32(bytes));
        return Convert.ToBase64String(value);
    }

    private static GetObjectResponse Response(byte[] body, string? storedCrc32)
    {
        var response = new GetObjectResponse { ETag = "\"e1\"", BucketName = "bucket", Key = Key, ResponseStream = new MemoryStream(body), HttpStatusCode = HttpStatusCode.PartialContent };
        if (storedCrc32 is not null)
        {
            response.Metadata.Add(ObjectChecksum.MetadataKey, storedCrc32);
        }

        return response;
    }

    private void AnswerGets(params Func<GetObjectRequest, GetObjectResponse>[] answers)
    {
        _s3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest request, CancellationToken _) =>
            {
                _gets.Add(new GetObjectRequest { Key = request.Key, ByteRange = request.ByteRange });
                return Task.FromResult(answers[Math.Min(_gets.Count, answers.Length) - 1](request));
            });
    }

    [Fact]
    public async Task A_commit_sends_the_files_crc32_as_the_object_checksum_and_as_metadata()
    {
        var content = DatabaseBytes.Valid(pages: 3, marker: 9);
        var file = Path.Combine(_root, "work.sqlite");
        File.WriteAllBytes(file, content);
        PutObjectRequest? sent = null;
        _s3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest request, CancellationToken _) =>
            {
                sent = request;
                return Task.FromResult(new PutObjectResponse { ETag = "\"c1\"", HttpStatusCode = HttpStatusCode.OK });
            });

        await NewStore().CommitAsync(Db, DatabaseETag.Missing, file, default);

        Assert.Equal(Crc32Of(content), sent!.ChecksumCRC32);
        Assert.Equal(ChecksumAlgorithm.CRC32, sent.ChecksumAlgorithm);
        Assert.Equal(Crc32Of(content), sent.Metadata[ObjectChecksum.MetadataKey]);
        Assert.True(sent.DisablePayloadSigning, "over TLS the payload is not hashed into the signature");
    }

    [Fact]
    public async Task A_download_asks_for_the_whole_object_as_a_range_and_keeps_bytes_matching_their_crc32()
    {
        var content = DatabaseBytes.Valid(pages: 2, marker: 5);
        AnswerGets(_ => Response(content, Crc32Of(content)));

        using var snapshot = await NewStore().GetAsync(Db, null, default);

        Assert.Equal(content, File.ReadAllBytes(snapshot.FilePath));
        var get = Assert.Single(_gets);
        Assert.Equal("bytes=0-", get.ByteRange.FormattedByteRange);
    }

    [Fact]
    public async Task Bytes_damaged_on_the_way_are_downloaded_again_and_never_cached()
    {
        var content = DatabaseBytes.Valid(pages: 2, marker: 5);
        var damaged = (byte[])content.Clone();
        damaged[^1] ^= 0xFF;
        AnswerGets(_ => Response(damaged, Crc32Of(content)), _ => Response(content, Crc32Of(content)));

        using var snapshot = await NewStore().GetAsync(Db, null, default);

        Assert.Equal(content, File.ReadAllBytes(snapshot.FilePath));
        Assert.Equal(2, _gets.Count);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(snapshot.FilePath)!));
    }

    [Fact]
    public async Task Bytes_that_keep_arriving_damaged_are_a_storage_error_within_the_deadline()
    {
        var content = DatabaseBytes.Valid(pages: 2, marker: 5);
        var damaged = (byte[])content.Clone();
        damaged[200] ^= 0x01;
        AnswerGets(_ => Response(damaged, Crc32Of(content)));
        // A deadline long enough that even a busy machine's first attempt fails on the damage before it passes.
        var store = TestStoreOptions.For("bucket", TimeSpan.FromSeconds(2)).CreateStore(_s3.Object, Path.Combine(_root, "cache"), TimeProvider.System, TimeSpan.FromMilliseconds(5));

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetAsync(Db, null, default));

        Assert.Contains("CRC32", error.Message);
        Assert.True(_gets.Count > 1);
    }

    [Fact]
    public async Task An_object_without_a_stored_crc32_is_taken_as_it_comes()
    {
        var content = DatabaseBytes.Valid(pages: 1, marker: 3);
        AnswerGets(_ => Response(content, storedCrc32: null));

        using var snapshot = await NewStore().GetAsync(Db, null, default);

        Assert.Equal(content, File.ReadAllBytes(snapshot.FilePath));
    }

    [Fact]
    public async Task An_empty_object_which_has_no_byte_0_is_asked_for_again_without_the_range()
    {
        AnswerGets(
            _ => throw new AmazonS3Exception("The requested range is not satisfiable") { StatusCode = HttpStatusCode.RequestedRangeNotSatisfiable, ErrorCode = "InvalidRange" },
            _ => Response([], storedCrc32: null));

        using var snapshot = await NewStore().GetAsync(Db, null, default);

        Assert.Equal(0, new FileInfo(snapshot.FilePath).Length);
        Assert.Equal(2, _gets.Count);
        Assert.Null(_gets[1].ByteRange);
    }
}
