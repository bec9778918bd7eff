using System.Text.Json;
using Amazon.S3.Model;
using Microsoft.Data.Sqlite;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Idempotency-Key end to end: API Gateway events into real QueryRunner handlers in separate
/// containers, S3 on moto; what is stored is read straight from the bucket.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class IdempotencyEndToEndTests(MotoServerFixture moto)
{
    private const string Increment = """["UPDATE counter SET n = n + 1", "SELECT n FROM counter"]""";

    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    private async Task<long> StoredCounterAsync(string bucket)
    {
        var file = Path.GetTempFileName();
        try
        {
            using (var response = await moto.S3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "databases/default.sqlite" }))
            {
                await response.WriteResponseStreamToFileAsync(file, append: false, CancellationToken.None);
            }

            using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = new SqliteCommand("SELECT n FROM counter", connection);
            return (long)command.ExecuteScalar()!;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<string> SeedAsync()
    {
        var bucket = await moto.CreateBucketAsync();
        using var setup = new QueryRunnerInstance(moto, bucket);
        var seeded = await setup.PostAsync("/db/execute", """["CREATE TABLE counter(n INTEGER)", "INSERT INTO counter VALUES (0)"]""");
        Assert.True(seeded.StatusCode == 200, seeded.Body);
        return bucket;
    }

    [Fact]
    public async Task A_retry_in_another_container_gets_the_first_answer_and_the_write_is_stored_once()
    {
        var bucket = await SeedAsync();
        using var first = new QueryRunnerInstance(moto, bucket);
        using var second = new QueryRunnerInstance(moto, bucket);

        var answer = await first.PostAsync("/db/request", Increment, headers: Key("order-42"));
        var retry = await second.PostAsync("/db/request", Increment, headers: Key("order-42"));

        Assert.True(answer.StatusCode == 200, answer.Body);
        Assert.Equal(200, retry.StatusCode);
        Assert.Equal(answer.Body, retry.Body);
        Assert.Equal("true", retry.Header("Idempotent-Replayed"));
        Assert.Equal(1, await StoredCounterAsync(bucket));
    }

    [Fact]
    public async Task The_same_keyed_write_sent_by_many_containers_at_once_is_applied_once()
    {
        const int containers = 8;
        var bucket = await SeedAsync();
        var runners = Enumerable.Range(0, containers).Select(_ => new QueryRunnerInstance(moto, bucket)).ToList();
        try
        {
            using var start = new SemaphoreSlim(0);
            var sends = runners.Select(async runner =>
            {
                await start.WaitAsync();
                return await runner.PostAsync("/db/request", Increment, headers: Key("payment-7"));
            }).ToList();
            start.Release(containers);
            var responses = await Task.WhenAll(sends);

            Assert.All(responses, r => Assert.True(r.StatusCode == 200, $"status {r.StatusCode}: {r.Body}"));
            Assert.Single(responses.Select(r => r.Body).Distinct());
            Assert.Equal(containers - 1, responses.Count(r => r.Header("Idempotent-Replayed") == "true"));
            Assert.Equal(1, await StoredCounterAsync(bucket));
            using var body = JsonDocument.Parse(responses[0].Body);
            Assert.Equal(1, body.RootElement.GetProperty("results")[1].GetProperty("values")[0][0].GetInt32());
        }
        finally
        {
            runners.ForEach(r => r.Dispose());
        }
    }
}
