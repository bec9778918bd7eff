using System.Text.Json;
using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// Several QueryRunner processes on one machine with the same CACHE_DIR (issue 7): each keeps its
/// cached versions and working copies in a folder of its own, so starting one never breaks another.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class SharedCacheDirectoryTests(MotoServerFixture moto) : IDisposable
{
    private const int Instances = 6;
    private const int WritesPerInstance = 5;

    private readonly string _sharedCache = Directory.CreateTempSubdirectory("serverlessdb-shared-cache-").FullName;

    public void Dispose() => Directory.Delete(_sharedCache, recursive: true);

    [Fact]
    public async Task Instances_started_while_others_write_on_one_cache_directory_answer_no_500_and_apply_every_write()
    {
        var bucket = await moto.CreateBucketAsync();

        // The security-group lock, as deployed: writers take turns, so every write commits and the count is exact.
        var environment = new Dictionary<string, string?> { ["CACHE_DIR"] = _sharedCache, ["LOCK_VPC_ID"] = await moto.CreateVpcAsync() };
        using (var setup = new QueryRunnerInstance(moto, bucket, environment))
        {
            Assert.Equal(200, (await setup.PostAsync("/db/execute", """["CREATE TABLE counter(n INTEGER)", "INSERT INTO counter VALUES (0)"]""")).StatusCode);
        }

        var instances = new List<QueryRunnerInstance>();
        var gate = new Lock();
        try
        {
            // Staggered: each instance starts (claims its folder, clears leftovers) while the earlier
            // ones are reading and writing, which is what deleted their files before.
            var answers = await Task.WhenAll(Enumerable.Range(0, Instances).Select(async i =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(150 * i));
                var instance = new QueryRunnerInstance(moto, bucket, environment);
                lock (gate)
                {
                    instances.Add(instance);
                }

                return await Task.WhenAll(Enumerable.Range(0, WritesPerInstance).Select(async _ =>
                {
                    var read = await instance.GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter");
                    Assert.True(read.StatusCode == 200, $"read: status {read.StatusCode}: {read.Body}");
                    return await instance.PostAsync("/db/execute", """["UPDATE counter SET n = n + 1"]""");
                }));
            }));

            var responses = answers.SelectMany(a => a).ToList();
            Assert.All(responses, r => Assert.True(r.StatusCode == 200, $"status {r.StatusCode}: {r.Body}"));

            var count = await instances[0].GetAsync("/db/query", "q=SELECT%20n%20FROM%20counter");
            Assert.Equal(200, count.StatusCode);
            var n = JsonDocument.Parse(count.Body).RootElement.GetProperty("results")[0].GetProperty("values")[0][0].GetInt32();
            Assert.Equal(Instances * WritesPerInstance, n);
            Assert.True(Directory.GetDirectories(_sharedCache, "p-*").Length >= Instances, "each live instance keeps its own folder");
        }
        finally
        {
            instances.ForEach(instance => instance.Dispose());
        }
    }
}
