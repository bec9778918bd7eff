using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// The test S3 keeps S3's promise that a conditional write is atomic (DESIGN.md invariant 10): of
/// several PUTs with the same If-Match that overlap, exactly one succeeds, and the object then carries
/// that PUT's body and metadata, which a HEAD never sees apart. moto_server 5.2 alone checks the
/// condition, stores the object and sets its metadata with no lock between; the fixture's launcher
/// (tools/atomic_moto_server.py) serializes the requests on one object.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class ConditionalWriteAtomicityTests(MotoServerFixture moto)
{
    private const int Rounds = 16;
    private const int WritersPerRound = 3;

    // Past moto's in-memory buffer for an object (5 MiB less 1 KiB): storing the body then writes a
    // temporary file, during which moto alone lets the other PUTs of the round pass their check.
    private const int BodyBytes = 6 * 1024 * 1024;
    private const int HeadsPerRound = 4;
    private const string Key = "databases/race.sqlite";
    private const string WriterMetadata = "x-amz-meta-writer";

    [Fact]
    public async Task Of_overlapping_puts_with_the_same_if_match_exactly_one_succeeds_and_a_head_sees_its_metadata_with_it()
    {
        var bucket = await moto.CreateBucketAsync();
        var failures = new List<string>();
        for (var round = 0; round < Rounds; round++)
        {
            var basis = await moto.S3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = $"round {round} basis" });
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var puts = Enumerable.Range(0, WritersPerRound).Select(w => PutAsync(bucket, basis.ETag, round, w, start.Task)).ToList();
            var heads = Enumerable.Range(0, HeadsPerRound).Select(_ => HeadAsync(bucket, start.Task)).ToList();
            start.SetResult();
            var statuses = await Task.WhenAll(puts);
            var seen = await Task.WhenAll(heads);

            var winners = Enumerable.Range(0, WritersPerRound).Where(w => statuses[w] == HttpStatusCode.OK).ToList();
            if (winners.Count != 1 || statuses.Any(s => s is not (HttpStatusCode.OK or HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)))
            {
                failures.Add($"round {round}: answers {string.Join(", ", statuses.Select(s => (int)s))}");
                continue;
            }

            using var stored = await moto.S3.GetObjectAsync(bucket, Key);
            using var reader = new StreamReader(stored.ResponseStream);
            var body = await reader.ReadToEndAsync();
            var expected = Body(round, winners[0]);
            if (body != expected || stored.Metadata[WriterMetadata] != winners[0].ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                failures.Add($"round {round}: writer {winners[0]} won, but the object holds '{body}' with writer metadata '{stored.Metadata[WriterMetadata]}'");
            }

            failures.AddRange(seen
                .Where(h => h.ETag != basis.ETag && h.Writer is null)
                .Select(h => $"round {round}: a HEAD saw the new object {h.ETag} without its metadata"));
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Rounds} rounds broke atomicity:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    private static string Body(int round, int writer) => $"round {round} written by {writer} ".PadRight(BodyBytes, 'x');

    private async Task<HttpStatusCode> PutAsync(string bucket, string etag, int round, int writer, Task start)
    {
        var request = new PutObjectRequest { BucketName = bucket, Key = Key, ContentBody = Body(round, writer), IfMatch = etag };
        request.Metadata.Add(WriterMetadata, writer.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await start;
        try
        {
            return (await moto.S3.PutObjectAsync(request)).HttpStatusCode;
        }
        catch (AmazonS3Exception e)
        {
            return e.StatusCode;
        }
    }

    private async Task<(string ETag, string? Writer)> HeadAsync(string bucket, Task start)
    {
        await start;
        var head = await moto.S3.GetObjectMetadataAsync(bucket, Key);
        return (head.ETag, head.Metadata.Keys.Contains(WriterMetadata) ? head.Metadata[WriterMetadata] : null);
    }
}
