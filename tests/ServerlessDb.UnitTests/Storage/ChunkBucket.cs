using System.Collections.Concurrent;
using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;
using ServerlessDb.Storage;
using ServerlessDb.Storage.Chunked;
using ServerlessDb.Storage.S3;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>
/// A Moq <see cref="IAmazonS3"/> holding a versioned bucket in memory, for the chunk collector: every object
/// version with its time, size and metadata; ListObjectsV2 (with a delimiter), ListObjectVersions (newest first
/// per key, one page), HEAD and GET by version id, DeleteObjects by version id, GetBucketVersioning. Every
/// request is recorded as "HEAD key versionId", "GET key versionId", "DELETE key versionId", "LIST prefix".
/// </summary>
internal sealed class ChunkBucket
{
    public const string Bucket = "my-databases";
    public const string Prefix = "databases/";

    private readonly List<StoredVersion> _versions = [];
    private readonly ConcurrentQueue<string> _requests = new();
    private int _next;

    public ChunkBucket()
    {
        S3.Setup(s => s.GetBucketVersioningAsync(It.IsAny<GetBucketVersioningRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new GetBucketVersioningResponse { VersioningConfig = new S3BucketVersioningConfig { Status = Versioning } });
        S3.Setup(s => s.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .Returns((ListObjectsV2Request r, CancellationToken _) => Task.FromResult(ListFolders(r)));
        S3.Setup(s => s.ListVersionsAsync(It.IsAny<ListVersionsRequest>(), It.IsAny<CancellationToken>()))
            .Returns((ListVersionsRequest r, CancellationToken _) => Task.FromResult(ListVersions(r)));
        S3.Setup(s => s.GetObjectMetadataAsync(It.IsAny<GetObjectMetadataRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectMetadataRequest r, CancellationToken _) => Task.FromResult(Head(r)));
        S3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest r, CancellationToken _) => Task.FromResult(Get(r)));
        S3.Setup(s => s.DeleteObjectsAsync(It.IsAny<DeleteObjectsRequest>(), It.IsAny<CancellationToken>()))
            .Returns((DeleteObjectsRequest r, CancellationToken _) => Task.FromResult(Delete(r)));
    }

    public Mock<IAmazonS3> S3 { get; } = new(MockBehavior.Strict);

    public VersionStatus Versioning { get; set; } = VersionStatus.Enabled;

    /// <summary>Called with the prefix of each ListObjectVersions before it is answered (a test moves its clock there).</summary>
    public Action<string>? OnListVersions { get; set; }

    public IReadOnlyList<string> Requests => _requests.ToArray();

    /// <summary>The key and version id of every version still stored.</summary>
    public IReadOnlyList<(string Key, string VersionId)> Stored
    {
        get
        {
            lock (_versions)
            {
                return [.. _versions.Select(v => (v.Key, v.VersionId))];
            }
        }
    }

    /// <summary>A SHA-256-like chunk name made of one hex digit.</summary>
    public static string Sha(char digit) => new(digit, 64);

    public static string DatabaseKey(string database) => $"{Prefix}{database}.sqlite";

    public static string ChunkKey(string database, string sha256) => $"{Prefix}_chunks/{database}/{sha256}";

    /// <summary>A manifest naming <paramref name="chunks"/>, one 64 KiB chunk each.</summary>
    public static byte[] Manifest(params string[] chunks) =>
        new ChunkManifest((long)chunks.Length * ChunkManifest.ChunkAlignment, 4096, ChunkManifest.ChunkAlignment,
            [.. chunks.Select((sha, i) => new ChunkRef((long)i * ChunkManifest.ChunkAlignment, ChunkManifest.ChunkAlignment, sha, new string('0', 32)))]).ToJson();

    /// <summary>Stores a manifest version of <paramref name="database"/>'s key; returns its version id.</summary>
    public string StoreManifest(string database, byte[] json, TimeSpan age) =>
        Store(DatabaseKey(database), json, age, new Dictionary<string, string> { [StoredMetadata.LayoutKey] = StoredMetadata.ChunkedLayoutName });

    /// <summary>Stores a whole-file version of <paramref name="database"/>'s key; returns its version id.</summary>
    public string StoreWholeFile(string database, TimeSpan age) => Store(DatabaseKey(database), new byte[4096], age, new Dictionary<string, string>());

    /// <summary>Stores a version of a chunk of <paramref name="database"/>; returns its version id.</summary>
    public string StoreChunk(string database, string sha256, TimeSpan age, int size = 65536) =>
        Store(ChunkKey(database, sha256), new byte[size], age, new Dictionary<string, string>());

    public string Store(string key, byte[] body, TimeSpan age, IReadOnlyDictionary<string, string> metadata)
    {
        var id = $"v{Interlocked.Increment(ref _next):D4}";
        lock (_versions)
        {
            _versions.Add(new StoredVersion(key, id, DateTime.UtcNow - age, body, metadata, IsDeleteMarker: false));
        }

        return id;
    }

    public void StoreDeleteMarker(string key)
    {
        lock (_versions)
        {
            _versions.Add(new StoredVersion(key, $"v{Interlocked.Increment(ref _next):D4}", DateTime.UtcNow, [], new Dictionary<string, string>(), IsDeleteMarker: true));
        }
    }

    public static AmazonS3Exception Error(HttpStatusCode status, string code) =>
        new($"S3 says {code}", status >= HttpStatusCode.InternalServerError ? ErrorType.Receiver : ErrorType.Sender, code, "request-1", status);

    private StoredVersion Find(string key, string versionId)
    {
        lock (_versions)
        {
            return _versions.SingleOrDefault(v => v.Key == key && v.VersionId == versionId) ?? throw Error(HttpStatusCode.NotFound, "NoSuchVersion");
        }
    }

    private ListObjectsV2Response ListFolders(ListObjectsV2Request request)
    {
        _requests.Enqueue($"LIST {request.Prefix}");
        Assert.Equal("/", request.Delimiter);
        lock (_versions)
        {
            var folders = _versions.Where(v => v.Key.StartsWith(request.Prefix, StringComparison.Ordinal) && v.Key.IndexOf('/', request.Prefix.Length) > 0)
                .Select(v => v.Key[..(v.Key.IndexOf('/', request.Prefix.Length) + 1)])
                .Distinct()
                .Order(StringComparer.Ordinal)
                .ToList();
            return new ListObjectsV2Response { CommonPrefixes = folders, IsTruncated = false };
        }
    }

    private ListVersionsResponse ListVersions(ListVersionsRequest request)
    {
        _requests.Enqueue($"LISTVERSIONS {request.Prefix}");
        OnListVersions?.Invoke(request.Prefix);
        lock (_versions)
        {
            // Keys in order, each key's versions newest first, as S3 lists them.
            var versions = _versions.Where(v => v.Key.StartsWith(request.Prefix, StringComparison.Ordinal))
                .Select((v, i) => (v, i))
                .OrderBy(x => x.v.Key, StringComparer.Ordinal).ThenByDescending(x => x.i)
                .Select(x => new S3ObjectVersion
                {
                    Key = x.v.Key,
                    VersionId = x.v.VersionId,
                    LastModified = x.v.LastModified,
                    Size = x.v.Body.Length,
                    IsDeleteMarker = x.v.IsDeleteMarker,
                })
                .ToList();
            return new ListVersionsResponse { Versions = versions, IsTruncated = false };
        }
    }

    private GetObjectMetadataResponse Head(GetObjectMetadataRequest request)
    {
        _requests.Enqueue($"HEAD {request.Key} {request.VersionId}");
        var version = Find(request.Key, request.VersionId);
        var response = new GetObjectMetadataResponse { ContentLength = version.Body.Length, VersionId = version.VersionId, ETag = "\"e\"" };
        foreach (var (name, value) in version.Metadata)
        {
            response.Metadata.Add(name, value);
        }

        return response;
    }

    private GetObjectResponse Get(GetObjectRequest request)
    {
        _requests.Enqueue($"GET {request.Key} {request.VersionId}");
        var version = Find(request.Key, request.VersionId);
        var response = new GetObjectResponse { ContentLength = version.Body.Length, VersionId = version.VersionId, ETag = "\"e\"", ResponseStream = new MemoryStream(version.Body) };
        foreach (var (name, value) in version.Metadata)
        {
            response.Metadata.Add(name, value);
        }

        return response;
    }

    private DeleteObjectsResponse Delete(DeleteObjectsRequest request)
    {
        var deleted = new List<DeletedObject>();
        lock (_versions)
        {
            foreach (var target in request.Objects)
            {
                _requests.Enqueue($"DELETE {target.Key} {target.VersionId}");
                Assert.False(string.IsNullOrEmpty(target.VersionId), "the collector deletes by version id only");
                _versions.RemoveAll(v => v.Key == target.Key && v.VersionId == target.VersionId);
                deleted.Add(new DeletedObject { Key = target.Key, VersionId = target.VersionId });
            }
        }

        return new DeleteObjectsResponse { DeletedObjects = deleted, DeleteErrors = [] };
    }

    private sealed record StoredVersion(string Key, string VersionId, DateTime LastModified, byte[] Body, IReadOnlyDictionary<string, string> Metadata, bool IsDeleteMarker);
}
