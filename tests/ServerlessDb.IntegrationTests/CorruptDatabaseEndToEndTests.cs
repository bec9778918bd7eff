using System.Text;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// A stored object that is not a whole SQLite file, through the real handler on moto: every read
/// and write gets a 500 naming the object and the reason, and the object is left exactly as it was.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class CorruptDatabaseEndToEndTests(MotoServerFixture moto)
{
    private const string Key = "databases/default.sqlite";

    public static TheoryData<string, string> Objects => new()
    {
        { "not sqlite", "does not start with the SQLite header string" },
        { "truncated", "it is truncated: 8192 bytes (2 pages) where its header says" },
        { "bad page size", "its page size field (header bytes 16-17) is 1000" },
    };

    [Theory]
    [MemberData(nameof(Objects))]
    public async Task Reads_and_writes_get_the_reason_and_the_object_is_left_byte_for_byte(string kind, string reason)
    {
        var bucket = await moto.CreateBucketAsync();
        var content = Build(kind);
        await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, InputStream = new MemoryStream(content) });
        var etag = (await moto.S3.GetObjectMetadataAsync(bucket, Key)).ETag;
        using var runner = new QueryRunnerInstance(moto, bucket);

        var answers = new[]
        {
            await runner.GetAsync("/db/query", "q=SELECT%201"),
            await runner.PostAsync("/db/execute", """["CREATE TABLE t(a)", "INSERT INTO t VALUES (1)"]"""),
            await runner.PostAsync("/db/request", """["INSERT INTO t VALUES (2)"]"""),
            await runner.PostAsync("/db/execute", """["INSERT INTO t VALUES (3)"]"""),
        };

        Assert.All(answers, answer =>
        {
            Assert.True(answer.StatusCode == 500, $"status {answer.StatusCode}: {answer.Body}");
            Assert.StartsWith($"Database 'default' (s3://{bucket}/{Key}, version {etag}) is not a valid SQLite database: ", answer.Body);
            Assert.Contains(reason, answer.Body);
            Assert.EndsWith("Nothing was changed; restore a good version of the object.\n", answer.Body);
        });
        using var stored = await moto.S3.GetObjectAsync(bucket, Key);
        using var bytes = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(bytes);
        Assert.Equal(etag, stored.ETag);
        Assert.Equal(content, bytes.ToArray());
    }

    private static byte[] Build(string kind) => kind switch
    {
        "not sqlite" => Encoding.UTF8.GetBytes("{\"this\": \"is JSON, not a database\"}".PadRight(4096)),
        "truncated" => RealDatabase()[..8192],
        "bad page size" => WithPageSize(RealDatabase(), 1000),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>A real database of several 4096-byte pages, read into memory: it is small, and the test compares bytes.</summary>
    private static byte[] RealDatabase()
    {
        var path = Path.Combine(Path.GetTempPath(), "serverlessdb-real-" + Guid.NewGuid().ToString("N") + ".sqlite");
        try
        {
            using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                connection.Open();
                using var command = new SqliteCommand(
                    "CREATE TABLE t(a); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO t SELECT randomblob(3000) FROM n",
                    connection);
                command.ExecuteNonQuery();
            }

            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] WithPageSize(byte[] database, ushort pageSize)
    {
        database[16] = (byte)(pageSize >> 8);
        database[17] = (byte)pageSize;
        return database;
    }
}
