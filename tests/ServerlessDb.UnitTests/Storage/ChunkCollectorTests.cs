using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.Collection;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The chunk collector over a versioned backend in memory (S3's promises; what only S3 does is in S3ObjectBackendTests).</summary>
public sealed class ChunkCollectorTests
{
    private const string Prefix = "databases/";

    private static readonly TimeSpan Grace = TimeSpan.FromHours(1);
    private static readonly TimeSpan Old = TimeSpan.FromHours(3);
    private static readonly TimeSpan Young = TimeSpan.FromMinutes(5);

    private readonly InMemoryObjectBackend _objects = new();
    private readonly RecordingLogSink _log = new();

    private IEnumerable<string> Reads => _objects.Requests.Where(r => r.StartsWith("HEAD ", StringComparison.Ordinal) || r.StartsWith("GET ", StringComparison.Ordinal));

    private IEnumerable<string> Deletes => _objects.Requests.Where(r => r.StartsWith("DELETE ", StringComparison.Ordinal));

    [Fact]
    public async Task An_old_chunk_no_manifest_names_is_deleted_by_its_version_id_and_chunks_an_old_manifest_version_names_are_kept()
    {
        StoreManifest("orders", Manifest(Sha('a'), Sha('b')), Old);
        StoreManifest("orders", Manifest(Sha('a'), Sha('c')), Old);
        StoreChunk("orders", Sha('a'), Old);
        StoreChunk("orders", Sha('b'), Old);
        StoreChunk("orders", Sha('c'), Old);
        var unreferenced = StoreChunk("orders", Sha('d'), Old, size: 1000);

        var summary = await Collector().CollectOnceAsync("event-1", CancellationToken.None);

        Assert.Equal((1, 2, 1, 1000L, 3, 0, 0), (summary.Databases, summary.Manifests, summary.Deleted, summary.DeletedBytes, summary.Kept, summary.Young, summary.Failed));
        Assert.Empty(summary.Skipped);
        Assert.Equal([$"DELETE {ChunkKey("orders", Sha('d'))} version={unreferenced}"], Deletes);
        Assert.Empty(_objects.VersionIdsOf(ChunkKey("orders", Sha('d'))));
        Assert.Single(_objects.VersionIdsOf(ChunkKey("orders", Sha('b'))));
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
        var first = StoreManifest("orders", Manifest(Sha('a')), Old);
        StoreChunk("orders", Sha('a'), Old);
        StoreChunk("orders", Sha('b'), Old);
        var collector = Collector();
        await collector.CollectOnceAsync(null, CancellationToken.None);
        var readBefore = Reads.Count();
        var second = StoreManifest("orders", Manifest(Sha('b')), Old);
        StoreChunk("orders", Sha('b'), Old);

        var summary = await collector.CollectOnceAsync(null, CancellationToken.None);

        string[] expected = [$"HEAD {DatabaseKey("orders")} version={second}", $"GET {DatabaseKey("orders")} version={second}"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), Reads.Skip(readBefore).Order(StringComparer.Ordinal));
        Assert.Equal(1, summary.Manifests);
        Assert.Single(_objects.VersionIdsOf(ChunkKey("orders", Sha('a'))));
        Assert.Contains(first, _objects.VersionIdsOf(DatabaseKey("orders")));
    }

    [Fact]
    public async Task An_unreferenced_chunk_younger_than_the_grace_is_kept_for_a_commit_that_may_be_in_progress()
    {
        StoreManifest("orders", Manifest(Sha('a')), Old);
        StoreChunk("orders", Sha('a'), Old);
        var young = StoreChunk("orders", Sha('e'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((0, 1, 1), (summary.Deleted, summary.Kept, summary.Young));
        Assert.Empty(Deletes);
        Assert.Equal([young], _objects.VersionIdsOf(ChunkKey("orders", Sha('e'))));
    }

    [Fact]
    public async Task A_chunk_uploaded_again_keeps_its_new_version_when_the_old_one_is_deleted()
    {
        StoreManifest("orders", Manifest(Sha('a')), Old);
        StoreChunk("orders", Sha('a'), Old);
        StoreChunk("orders", Sha('d'), Old);
        var again = StoreChunk("orders", Sha('d'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Young));
        Assert.Equal([again], _objects.VersionIdsOf(ChunkKey("orders", Sha('d'))));
    }

    [Fact]
    public async Task Whole_file_versions_are_only_HEADed_and_delete_markers_are_not_versions()
    {
        var whole = StoreWholeFile("orders", Old);
        var manifest = StoreManifest("orders", Manifest(Sha('a')), Old);
        _objects.Remove(DatabaseKey("orders"));
        StoreChunk("orders", Sha('a'), Old);
        StoreChunk("orders", Sha('b'), Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1, 1), (summary.Manifests, summary.Deleted, summary.Kept));
        string[] expected = [$"HEAD {DatabaseKey("orders")} version={whole}", $"HEAD {DatabaseKey("orders")} version={manifest}", $"GET {DatabaseKey("orders")} version={manifest}"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), Reads.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_manifest_that_does_not_parse_means_nothing_is_deleted_for_its_database_and_the_others_are_still_collected()
    {
        StoreManifest("orders", Manifest(Sha('a')), Old);
        StoreManifest("orders", Encoding.UTF8.GetBytes("{\"format\":\"serverlessdb-chunked-v1\",\"length\":"), Old);
        StoreChunk("orders", Sha('a'), Old);
        StoreChunk("orders", Sha('b'), Old);
        StoreManifest("shop", Manifest(Sha('c')), Old);
        StoreChunk("shop", Sha('c'), Old);
        StoreChunk("shop", Sha('d'), Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        var skipped = Assert.Single(summary.Skipped);
        Assert.Equal("orders", skipped.Database);
        Assert.Contains("does not parse", skipped.Reason, StringComparison.Ordinal);
        Assert.Equal((1, 1), (summary.Databases, summary.Deleted));
        Assert.Single(_objects.VersionIdsOf(ChunkKey("orders", Sha('b'))));
        Assert.Empty(_objects.VersionIdsOf(ChunkKey("shop", Sha('d'))));
        Assert.DoesNotContain(_objects.Requests, r => r.StartsWith("LIST VERSIONS " + Prefix + "_chunks/orders/", StringComparison.Ordinal));
        Assert.Contains(_log.Lines, l => l.Contains("\"warn\"", StringComparison.Ordinal) && l.Contains("\"orders\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_manifest_version_the_backend_keeps_refusing_means_nothing_is_deleted_for_its_database()
    {
        var version = StoreManifest("orders", Manifest(Sha('a')), Old);
        StoreChunk("orders", Sha('b'), Old);
        _objects.BeforeEach("HEAD", (key, _) =>
        {
            if (key == DatabaseKey("orders"))
            {
                throw InMemoryObjectBackend.Error(ObjectBackendFailure.Refused, "AccessDenied (403): Access Denied");
            }
        });

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Contains("AccessDenied", Assert.Single(summary.Skipped).Reason, StringComparison.Ordinal);
        Assert.Contains($"HEAD {DatabaseKey("orders")} version={version}", _objects.Requests);
        Assert.Equal(0, summary.Deleted);
        Assert.Empty(Deletes);
        Assert.Single(_objects.VersionIdsOf(ChunkKey("orders", Sha('b'))));
    }

    [Fact]
    public async Task A_database_whose_key_holds_no_version_any_more_loses_its_old_chunks()
    {
        StoreChunk("gone", Sha('a'), Old);
        var young = StoreChunk("gone", Sha('b'), Young);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Young));
        Assert.Equal([ChunkKey("gone", Sha('b'))], _objects.Keys);
        Assert.Equal([young], _objects.VersionIdsOf(ChunkKey("gone", Sha('b'))));
    }

    [Fact]
    public async Task An_unversioned_backend_is_refused_before_anything_is_listed()
    {
        var unversioned = new InMemoryObjectBackend(versioning: false);
        unversioned.StoreVersion(ChunkKey("orders", Sha('a')), new byte[65536], new ObjectMetadata("application/octet-stream"), DateTime.UtcNow - Old);

        var summary = await Collector(unversioned).CollectOnceAsync(null, CancellationToken.None);

        Assert.Contains("never enabled", summary.Refused, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0), (summary.Databases, summary.Deleted, summary.Kept));
        Assert.Empty(unversioned.Requests);
        Assert.Equal([ChunkKey("orders", Sha('a'))], unversioned.Keys);
    }

    [Fact]
    public async Task Names_under_the_chunk_folder_that_are_not_chunks_are_never_deleted()
    {
        _objects.StoreVersion(ChunkKey("orders", "notes.txt"), [1, 2, 3], new ObjectMetadata("text/plain"), DateTime.UtcNow - Old);
        _objects.StoreVersion(ChunkKey("orders", Sha('A')), [1, 2, 3], new ObjectMetadata("application/octet-stream"), DateTime.UtcNow - Old);

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((0, 0, 0), (summary.Deleted, summary.Kept, summary.Young));
        Assert.Empty(Deletes);
        Assert.Equal(2, _objects.Keys.Count);
    }

    [Fact]
    public async Task Versions_the_backend_refuses_to_delete_count_as_failed_and_stay_stored()
    {
        StoreChunk("orders", Sha('a'), Old);
        var refused = StoreChunk("orders", Sha('b'), Old);
        _objects.BeforeEach("DELETE", (key, _) =>
        {
            if (key == ChunkKey("orders", Sha('b')))
            {
                throw InMemoryObjectBackend.Error(ObjectBackendFailure.Refused, "AccessDenied (403): no");
            }
        });

        var summary = await Collector().CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (summary.Deleted, summary.Failed));
        Assert.Empty(_objects.VersionIdsOf(ChunkKey("orders", Sha('a'))));
        Assert.Equal([refused], _objects.VersionIdsOf(ChunkKey("orders", Sha('b'))));
        Assert.Contains(_log.Lines, l => l.Contains("chunk version not deleted", StringComparison.Ordinal)
            && l.Contains($"{ChunkKey("orders", Sha('b'))} version {refused}: AccessDenied (403): no", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pass_out_of_time_names_the_databases_it_did_not_reach_and_the_next_pass_starts_with_them()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        foreach (var database in new[] { "a", "b", "c" })
        {
            StoreChunk(database, Sha('f'), Old);
        }

        _objects.BeforeEach("LIST", (prefix, _) => clock.Advance(prefix == DatabaseKey("a") ? TimeSpan.FromSeconds(31) : TimeSpan.Zero));
        var collector = Collector(_objects, clock);

        var first = await collector.CollectOnceAsync(null, CancellationToken.None);
        var listedBefore = _objects.Requests.Count;
        var second = await collector.CollectOnceAsync(null, CancellationToken.None);

        Assert.Equal((1, 1), (first.Databases, first.Deleted));
        Assert.Equal(["b", "c"], first.Skipped.Select(s => s.Database));
        Assert.All(first.Skipped, s => Assert.Contains("budget ran out", s.Reason, StringComparison.Ordinal));
        // "a" lost its only chunk in the first pass, so its folder is gone from the second.
        Assert.Equal((2, 2), (second.Databases, second.Deleted));
        Assert.Empty(second.Skipped);
        Assert.Equal($"LIST VERSIONS {DatabaseKey("b")}", _objects.Requests.Skip(listedBefore).First(r => r.StartsWith("LIST VERSIONS ", StringComparison.Ordinal)));
    }

    /// <summary>A SHA-256-like chunk name made of one hex digit.</summary>
    private static string Sha(char digit) => new(digit, 64);

    private static string DatabaseKey(string database) => $"{Prefix}{database}.sqlite";

    private static string ChunkKey(string database, string sha256) => $"{Prefix}_chunks/{database}/{sha256}";

    /// <summary>A manifest naming <paramref name="chunks"/>, one 64 KiB chunk each.</summary>
    private static byte[] Manifest(params string[] chunks) =>
        new ChunkManifest((long)chunks.Length * ChunkManifest.ChunkAlignment, 4096, ChunkManifest.ChunkAlignment,
            [.. chunks.Select((sha, i) => new ChunkRef((long)i * ChunkManifest.ChunkAlignment, ChunkManifest.ChunkAlignment, sha, new string('0', 32)))]).ToJson();

    private ChunkCollector Collector(IObjectBackend? objects = null, TimeProvider? time = null) =>
        new(objects ?? _objects, new ChunkCollectorOptions(Prefix, Grace) { RetryWindow = TimeSpan.FromSeconds(1) }, time ?? TimeProvider.System, _log);

    /// <summary>Stores a manifest version of <paramref name="database"/>'s key, <paramref name="age"/> old; returns its version id.</summary>
    private string StoreManifest(string database, byte[] json, TimeSpan age) =>
        StoreAged(DatabaseKey(database), json, age, new Dictionary<string, string> { [StoredMetadata.LayoutKey] = StoredMetadata.ChunkedLayoutName });

    /// <summary>Stores a whole-file version of <paramref name="database"/>'s key, <paramref name="age"/> old; returns its version id.</summary>
    private string StoreWholeFile(string database, TimeSpan age) => StoreAged(DatabaseKey(database), new byte[4096], age, new Dictionary<string, string>());

    /// <summary>Stores a version of a chunk of <paramref name="database"/>, <paramref name="age"/> old; returns its version id.</summary>
    private string StoreChunk(string database, string sha256, TimeSpan age, int size = 65536) =>
        StoreAged(ChunkKey(database, sha256), new byte[size], age, new Dictionary<string, string>());

    private string StoreAged(string key, byte[] body, TimeSpan age, IReadOnlyDictionary<string, string> user) =>
        _objects.StoreVersion(key, body, new ObjectMetadata("application/octet-stream", user), DateTime.UtcNow - age).VersionId!;
}
