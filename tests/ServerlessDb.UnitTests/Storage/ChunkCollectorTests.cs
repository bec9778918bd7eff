using System.Net;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Time.Testing;
using Moq;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Support;
using static ServerlessDb.UnitTests.Storage.ChunkBucket;

namespace ServerlessDb.UnitTests.Storage;

public sealed class ChunkCollectorTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);
    private static readonly TimeSpan Old = TimeSpan.FromHours(3);
    private static readonly TimeSpan Young = TimeSpan.FromMinutes(5);

    private readonly ChunkBucket _bucket = new();
    private readonly RecordingLogSink _log = new();

    private ChunkCollector Collector() =>
        new(new S3ObjectBackend(_bucket.S3.Object, Bucket), new ChunkCollectorOptions(Prefix, Grace) { RetryWindow = TimeSpan.FromSeconds(1) }, TimeProvider.System, _log);

    [Fact]
    public async Task An_old_chunk_no_manifest_names_is_deleted_by_its_version_id_and_chunks_an_old_manifest_version_names_are_kept()
    {
        _bucket.StoreManifest("orders", Manifest(Sha('a'), Sha('b')), Old);
        _bucket.StoreManifest("orders", Manifest(Sha('a'), Sha('c')), Old);
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);
        _bucket.StoreChunk("orders", Sha('c'), Old);
        var unreferenced = _bucket.StoreChunk("orders", Sha('d'), Old, size: 1000);

        var summary = await Collector().CollectOnceAsync("event-1", CancellationToken.None);

        Assert.Equal((1, 2, 1, 1000L, 3, 0, 0), (summary.Databases, summary.Manifests, summary.Deleted, summary.DeletedBytes, summary.Kept, summary.Young, summary.Failed));
        Assert.Empty(summary.Skipped);
        Assert.Equal([$"DELETE {ChunkKey("orders", Sha('d'))} {unreferenced}"], _bucket.Requests.Where(r => r.StartsWith("DELETE", StringComparison.Ordinal)));
        Assert.DoesNotContain((ChunkKey("orders", Sha('d')), unreferenced), _bucket.Stored);
        Assert.Contains(_bucket.Stored, v => v.Key == ChunkKey("orders", Sha('b')));
        var line = JsonDocument.Parse(_log.Lines[^1]).RootElement;
        Assert.Equal("chunk collector pass", line.GetProperty("message").GetString());
        Assert.Equal("event-1", line.GetProperty("trigger").GetString());
        Assert.Equal(1000, line.GetProperty("deletedBytes").GetInt64());
        var metrics = line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Metrics").EnumerateArray().Select(m => m.GetProperty("Name").GetString());
        Assert.Contains("ChunksDeleted", metrics);
    }

    [Fact]
    public async Task A_later_pass_in_the_same_process_reads_only_the_versions_committed_since_the_last()
    {
        var first = _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);
        var collector = Collector();
        await collector.CollectOnceAsync(null, CancellationToken.None);
        var readBefore = _bucket.Requests.Count(r => r.StartsWith("HEAD", StringComparison.Ordinal) || r.StartsWith("GET", StringComparison.Ordinal));
        var second = _bucket.StoreManifest("orders", Manifest(Sha('b')), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);

        var summary = await collector.CollectOnceAsync(null, CancellationToken.None);

        var reads = _bucket.Requests.Where(r => r.StartsWith("HEAD", StringComparison.Ordinal) || r.StartsWith("GET", StringComparison.Ordinal)).Skip(readBefore);
        string[] expected = [$"HEAD {DatabaseKey("orders")} {second}", $"GET {DatabaseKey("orders")} {second}"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), reads.Order(StringComparer.Ordinal));
        Assert.Equal(1, summary.Manifests);
        Assert.Contains(_bucket.Stored, v => v.Key == ChunkKey("orders", Sha('a')));
        Assert.Contains(_bucket.Stored, v => v.Key == DatabaseKey("orders") && v.VersionId == first);
    }

    [Fact]
    public async Task An_unreferenced_chunk_younger_than_the_grace_is_kept_for_a_commit_that_may_be_in_progress()
    {
        _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('e'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((0, 1, 1), (summary.Deleted, summary.Kept, summary.Young));
        Assert.DoesNotContain(_bucket.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chunk_uploaded_again_keeps_its_new_version_when_the_old_one_is_deleted()
    {
        _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreChunk("orders", Sha('a'), Old);
        var old = _bucket.StoreChunk("orders", Sha('d'), Old);
        var again = _bucket.StoreChunk("orders", Sha('d'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Young));
        Assert.DoesNotContain((ChunkKey("orders", Sha('d')), old), _bucket.Stored);
        Assert.Contains((ChunkKey("orders", Sha('d')), again), _bucket.Stored);
    }

    [Fact]
    public async Task Whole_file_versions_are_only_HEADed_and_delete_markers_are_not_versions()
    {
        var whole = _bucket.StoreWholeFile("orders", Old);
        var manifest = _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreDeleteMarker(DatabaseKey("orders"));
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1, 1), (summary.Manifests, summary.Deleted, summary.Kept));
        string[] expected = [$"HEAD {DatabaseKey("orders")} {whole}", $"HEAD {DatabaseKey("orders")} {manifest}", $"GET {DatabaseKey("orders")} {manifest}"];
        var reads = _bucket.Requests.Where(r => r.StartsWith("HEAD", StringComparison.Ordinal) || r.StartsWith("GET", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), reads.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_manifest_that_does_not_parse_means_nothing_is_deleted_for_its_database_and_the_others_are_still_collected()
    {
        _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreManifest("orders", Encoding.UTF8.GetBytes("{\"format\":\"serverlessdb-chunked-v1\",\"length\":"), Old);
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);
        _bucket.StoreManifest("shop", Manifest(Sha('c')), Old);
        _bucket.StoreChunk("shop", Sha('c'), Old);
        _bucket.StoreChunk("shop", Sha('d'), Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        var skipped = Assert.Single(summary.Skipped);
        Assert.Equal("orders", skipped.Database);
        Assert.Contains("does not parse", skipped.Reason, StringComparison.Ordinal);
        Assert.Equal((1, 1), (summary.Databases, summary.Deleted));
        Assert.Contains(_bucket.Stored, v => v.Key == ChunkKey("orders", Sha('b')));
        Assert.DoesNotContain(_bucket.Stored, v => v.Key == ChunkKey("shop", Sha('d')));
        Assert.DoesNotContain(_bucket.Requests, r => r.StartsWith("LISTVERSIONS " + Prefix + "_chunks/orders/", StringComparison.Ordinal));
        Assert.Contains(_log.Lines, l => l.Contains("\"warn\"", StringComparison.Ordinal) && l.Contains("\"orders\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_manifest_version_S3_keeps_refusing_means_nothing_is_deleted_for_its_database()
    {
        var version = _bucket.StoreManifest("orders", Manifest(Sha('a')), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);
        _bucket.S3.Setup(s => s.GetObjectMetadataAsync(It.Is<GetObjectMetadataRequest>(r => r.VersionId == version), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(HttpStatusCode.Forbidden, "AccessDenied"));

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Contains("AccessDenied", Assert.Single(summary.Skipped).Reason, StringComparison.Ordinal);
        Assert.Equal(0, summary.Deleted);
        Assert.Contains(_bucket.Stored, v => v.Key == ChunkKey("orders", Sha('b')));
    }

    [Fact]
    public async Task A_database_whose_key_holds_no_version_any_more_loses_its_old_chunks()
    {
        _bucket.StoreChunk("gone", Sha('a'), Old);
        _bucket.StoreChunk("gone", Sha('b'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Young));
    }

    [Fact]
    public async Task An_unversioned_bucket_is_refused_before_anything_is_listed()
    {
        _bucket.Versioning = VersionStatus.Suspended;
        _bucket.StoreChunk("orders", Sha('a'), Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Contains("Suspended", summary.Refused, StringComparison.Ordinal);
        Assert.Empty(_bucket.Requests);
        Assert.Single(_bucket.Stored);
    }

    [Fact]
    public async Task Names_under_the_chunk_folder_that_are_not_chunks_are_never_deleted()
    {
        _bucket.Store(ChunkKey("orders", "notes.txt"), [1, 2, 3], Old, new Dictionary<string, string>());
        _bucket.Store(ChunkKey("orders", Sha('A')), [1, 2, 3], Old, new Dictionary<string, string>());

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((0, 0, 0), (summary.Deleted, summary.Kept, summary.Young));
        Assert.Equal(2, _bucket.Stored.Count);
    }

    [Fact]
    public async Task Versions_S3_refuses_to_delete_count_as_failed()
    {
        _bucket.StoreChunk("orders", Sha('a'), Old);
        _bucket.StoreChunk("orders", Sha('b'), Old);
        _bucket.S3.Setup(s => s.DeleteObjectsAsync(It.IsAny<DeleteObjectsRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((DeleteObjectsRequest r, CancellationToken _) => new DeleteObjectsResponse
            {
                DeletedObjects = [new DeletedObject { Key = r.Objects[0].Key, VersionId = r.Objects[0].VersionId }],
                DeleteErrors = [new DeleteError { Key = r.Objects[1].Key, VersionId = r.Objects[1].VersionId, Code = "AccessDenied", Message = "no" }],
            });

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Failed));
        Assert.Contains(_log.Lines, l => l.Contains("chunk version not deleted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pass_out_of_time_names_the_databases_it_did_not_reach_and_the_next_pass_starts_with_them()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        foreach (var database in new[] { "a", "b", "c" })
        {
            _bucket.StoreChunk(database, Sha('f'), Old);
        }

        _bucket.OnListVersions = prefix => clock.Advance(prefix == DatabaseKey("a") ? TimeSpan.FromSeconds(31) : TimeSpan.Zero);
        var collector = new ChunkCollector(new S3ObjectBackend(_bucket.S3.Object, Bucket), new ChunkCollectorOptions(Prefix, Grace) { RetryWindow = TimeSpan.FromSeconds(1) }, clock, _log);

        var first = await collector.CollectOnceAsync(null, CancellationToken.None);
        var listedBefore = _bucket.Requests.Count;
        var second = await collector.CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (first.Databases, first.Deleted));
        Assert.Equal(["b", "c"], first.Skipped.Select(s => s.Database));
        Assert.All(first.Skipped, s => Assert.Contains("budget ran out", s.Reason, StringComparison.Ordinal));
        // "a" lost its only chunk in the first pass, so its folder is gone from the second.
        Assert.Equal((2, 2), (second.Databases, second.Deleted));
        Assert.Empty(second.Skipped);
        Assert.StartsWith($"LISTVERSIONS {DatabaseKey("b")}", _bucket.Requests.Skip(listedBefore).First(r => r.StartsWith("LISTVERSIONS", StringComparison.Ordinal)), StringComparison.Ordinal);
    }
}
