using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// The counter as stored: the database object read from moto directly (not through the proxy, not
/// through the handler) and opened with SQLite.
/// </summary>
public static class StoredCounter
{
    public const string Database = "default";
    public const string Key = "databases/default.sqlite";
    public const string CreateJson = """["CREATE TABLE counter(n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)"]""";
    public const string IncrementJson = """["UPDATE counter SET n = n + 1"]""";

    public static async Task<long> ReadAsync(MotoServerFixture moto, string bucket)
    {
        var path = Path.Combine(Path.GetTempPath(), $"serverlessdb-stored-{Guid.NewGuid():N}.sqlite");
        try
        {
            using (var response = await moto.S3.GetObjectAsync(bucket, Key))
            await using (var file = File.Create(path))
            {
                await response.ResponseStream.CopyToAsync(file);
            }

            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString());
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA quick_check";
            Assert.Equal("ok", check.ExecuteScalar());
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT n FROM counter";
            return (long)select.ExecuteScalar()!;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The lock groups named <paramref name="lockNamePrefix"/>* left in <paramref name="vpcId"/>, described by the aws CLI on moto directly.</summary>
    public static async Task<IReadOnlyList<DescribedGroup>> LockGroupsAsync(MotoServerFixture moto, string vpcId, string lockNamePrefix) =>
        await new SecurityGroupsCli(moto).DescribeAsync(vpcId, lockNamePrefix);
}
