using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// An <see cref="IObjectBackend"/> in memory that keeps S3's promises: a conditional put or delete checks and writes
/// under one lock, so it is atomic as S3's is, and every put gives a new ETag. With versioning (the default, as the
/// template deploys the bucket) every put gets a version id, what a put or delete replaces stays as a noncurrent
/// version, a delete without a version id leaves a deletion marker, and listings of versions page as S3's do; without
/// it a put replaces and a delete removes, and version ids are null ("null" in listings). For the tests: every request
/// is recorded ("PUT key If-None-Match=*", "GET key", "HEAD key", "DELETE key If-Match=etag", "LIST prefix",
/// "LIST VERSIONS prefix", with " version=ID" when a call names a version); a fault queued for an operation is thrown
/// instead of carrying it out, or after it (<see cref="LoseAnswer"/>); hooks run before or after every call of an
/// operation, to force an interleaving.
/// </summary>
internal sealed class InMemoryObjectBackend(bool versioning = true, TimeProvider? time = null) : IObjectBackend
{
    public const string Bucket = "my-databases";

    // Each key's versions and deletion markers, newest first; without versioning, at most one entry.
    private readonly Dictionary<string, List<Entry>> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> _before = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> _after = new();
    private readonly ConcurrentDictionary<string, Action<string, CancellationToken>> _everyBefore = new();
    private readonly ConcurrentDictionary<string, Action<string, CancellationToken>> _everyAfter = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private int _version;

    /// <summary>Requests in the order they were made.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    /// <summary>The keys that have an object now (not those whose latest entry is a deletion marker), in key order.</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_objects)
            {
                return _objects.Where(p => CurrentOf(p.Value) is not null).Select(p => p.Key).Order(KeyOrder).ToList();
            }
        }
    }

    /// <summary>A failure as the S3 backend reports it, saying what S3 said (<paramref name="detail"/>, for example "SlowDown (503): ...").</summary>
    public static ObjectBackendException Error(ObjectBackendFailure failure, string detail) =>
        new(failure, "Test", $"s3://{Bucket}/", detail);

    /// <summary>The next <paramref name="operation"/> (PUT, GET, HEAD, DELETE, LIST) throws <paramref name="fault"/> without being carried out.</summary>
    public void Fail(string operation, Exception fault) => Queue(_before, operation).Enqueue((_, _) => throw fault);

    /// <summary>The next <paramref name="operation"/> is carried out, and then its answer is lost (a broken connection).</summary>
    public void LoseAnswer(string operation) =>
        Queue(_after, operation).Enqueue((key, _) => throw new ObjectBackendException(ObjectBackendFailure.Unavailable, operation, Describe(key), "HttpRequestException: connection reset"));

    /// <summary>Runs <paramref name="hook"/> (which may throw) before every <paramref name="operation"/> is carried out.</summary>
    public void BeforeEach(string operation, Action<string, CancellationToken> hook) => _everyBefore[operation] = hook;

    /// <summary>Runs <paramref name="hook"/> (which may throw, losing the answer) after every <paramref name="operation"/> is carried out.</summary>
    public void AfterEach(string operation, Action<string, CancellationToken> hook) => _everyAfter[operation] = hook;

    /// <summary>Stores <paramref name="body"/> at <paramref name="key"/> unconditionally, as another writer or a person would, unrecorded; returns its ETag.</summary>
    public string Store(string key, string body, DateTime? lastModified = null)
    {
        lock (_objects)
        {
            return Add(key, Encoding.UTF8.GetBytes(body), new ObjectMetadata("application/octet-stream"), lastModified).ETag;
        }
    }

    /// <summary>
    /// Stores <paramref name="body"/> at <paramref name="key"/> unconditionally and unrecorded, as another writer would, with
    /// <paramref name="metadata"/> as given and, when <paramref name="lastModified"/> is given, that time (a version stored in
    /// the past); returns its ETag and version id (null without versioning).
    /// </summary>
    public PutResult StoreVersion(string key, byte[] body, ObjectMetadata metadata, DateTime? lastModified = null)
    {
        lock (_objects)
        {
            var entry = Add(key, [.. body], metadata, lastModified);
            return new PutResult(entry.ETag, entry.VersionId);
        }
    }

    /// <summary>The version ids stored at <paramref name="key"/>, newest first, deletion markers left out; empty without versioning.</summary>
    public IReadOnlyList<string> VersionIdsOf(string key)
    {
        lock (_objects)
        {
            return [.. VersionsOf(key).Where(e => !e.IsDeleteMarker && e.VersionId is not null).Select(e => e.VersionId!)];
        }
    }

    /// <summary>Deletes <paramref name="key"/> unconditionally and unrecorded, as another writer would (leaving a deletion marker with versioning).</summary>
    public void Remove(string key)
    {
        lock (_objects)
        {
            DeleteCurrent(key);
        }
    }

    public string? ETagOf(string key)
    {
        lock (_objects)
        {
            return CurrentOf(key)?.ETag;
        }
    }

    public string? BodyOf(string key)
    {
        lock (_objects)
        {
            return CurrentOf(key) is { } o ? Encoding.UTF8.GetString(o.Content) : null;
        }
    }

    public string Name => "S3";

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken) =>
        Task.FromResult(versioning ? new ObjectVersioning(true, "Enabled") : new ObjectVersioning(false, "never enabled"));

    public Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) =>
        CallAsync("HEAD", $"HEAD {key}{VersionOf(selector.VersionId)}", key, cancellationToken, () =>
        {
            lock (_objects)
            {
                return Select(key, selector, "HeadObject") is { } o ? InfoOf(key, o) : null;
            }
        });

    public Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) =>
        CallAsync("GET", $"GET {key}{VersionOf(selector.VersionId)}", key, cancellationToken, () =>
        {
            lock (_objects)
            {
                if (Select(key, selector, "GetObject") is not { } o)
                {
                    return ObjectRead.Missing;
                }

                if (selector.IfNoneMatch == o.ETag)
                {
                    return ObjectRead.NotModified;
                }

                var range = selector.Range is { } asked && !(asked.Offset == 0 && (asked.Length is null || o.Content.Length == 0)) ? asked : (ObjectRange?)null;
                if (range is { } r && (r.Offset >= o.Content.Length || r.Length <= 0))
                {
                    throw new ObjectBackendException(ObjectBackendFailure.Refused, "GetObject", Describe(key), "InvalidRange (416): The requested range is not satisfiable");
                }

                var offset = (int)(range?.Offset ?? 0);
                var length = (int)Math.Min(range?.Length ?? long.MaxValue, o.Content.Length - offset);
                return ObjectRead.Of(InfoOf(key, o), new MemoryStream(o.Content, offset, length, writable: false));
            }
        });

    public Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken) =>
        CallAsync("PUT", $"PUT {key} {condition}", key, cancellationToken, () =>
        {
            byte[] content;
            using (var stream = body.Open())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                content = copy.ToArray();
            }

            if (body.Crc32 is { } crc32 && Crc32Of(content) != crc32)
            {
                throw new ObjectBackendException(ObjectBackendFailure.Refused, "PutObject", Describe(key), "BadDigest (400): The CRC32 you specified did not match the calculated checksum.");
            }

            lock (_objects)
            {
                var current = CurrentOf(key);
                if (condition.IsConditional && (condition.ETag is null ? current is not null : current?.ETag != condition.ETag))
                {
                    throw Failed("PutObject", key, current is not null ? "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold" : "NoSuchKey (404): The specified key does not exist.");
                }

                var metadataAsStored = metadata with { User = metadata.User.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value, StringComparer.Ordinal) };
                var entry = Add(key, content, metadataAsStored, lastModified: null);
                return new PutResult(entry.ETag, entry.VersionId);
            }
        });

    public Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken) =>
        CallAsync("DELETE", $"DELETE {key}" + (ifMatch is null ? "" : $" If-Match={ifMatch}") + VersionOf(versionId), key, cancellationToken, () =>
        {
            lock (_objects)
            {
                var target = versionId is null ? CurrentOf(key) : VersionsOf(key).Find(e => e.VersionId == versionId);
                if (ifMatch is not null && (target is null || target.ETag != ifMatch))
                {
                    throw Failed("DeleteObject", key, target is not null ? "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold" : "NoSuchKey (404): The specified key does not exist.");
                }

                if (versionId is null)
                {
                    DeleteCurrent(key);
                }
                else if (target is not null && VersionsOf(key).Remove(target) && VersionsOf(key).Count == 0)
                {
                    _objects.Remove(key);
                }

                return true;
            }
        });

    public async Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken)
    {
        var failures = new List<VersionDeleteFailure>();
        foreach (var version in versions)
        {
            try
            {
                await DeleteAsync(version.Key, ifMatch: null, version.VersionId, cancellationToken);
            }
            catch (ObjectBackendException e)
            {
                failures.Add(new VersionDeleteFailure(version, e.Detail));
            }
        }

        return failures;
    }

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken) =>
        CallAsync("LIST", $"LIST {request.Prefix}", request.Prefix, cancellationToken, () =>
        {
            lock (_objects)
            {
                (string Name, bool IsPrefix)? after = request.Continuation is null ? null : DecodeToken(request.Continuation, request.Prefix);
                var items = new List<(string Name, ObjectSummary? Object)>();
                foreach (var (key, versions) in _objects.Where(p => p.Key.StartsWith(request.Prefix, StringComparison.Ordinal)).OrderBy(p => p.Key, KeyOrder))
                {
                    if (CurrentOf(versions) is not { } o
                        || (request.StartAfter is not null && KeyOrder.Compare(key, request.StartAfter) <= 0)
                        || (after is { } marker && !IsAfter(key, marker)))
                    {
                        continue;
                    }

                    var rolledUp = RolledUp(key, request.Prefix, request.Delimiter);
                    if (rolledUp is null)
                    {
                        items.Add((key, new ObjectSummary(key, o.Content.Length, o.LastModified)));
                    }
                    else if (items.Count == 0 || items[^1].Name != rolledUp)
                    {
                        items.Add((rolledUp, null));
                    }
                }

                var page = items.Take(request.MaxKeys ?? 1000).ToList();
                var next = page.Count > 0 && page.Count < items.Count ? EncodeToken(page[^1].Name, page[^1].Object is null) : null;
                return new ObjectListing(
                    page.Where(i => i.Object is not null).Select(i => i.Object!).ToList(),
                    page.Where(i => i.Object is null).Select(i => i.Name).ToList(),
                    next);
            }
        });

    public Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken) =>
        CallAsync("LIST", $"LIST VERSIONS {request.Prefix}", request.Prefix, cancellationToken, () =>
        {
            lock (_objects)
            {
                if (request.VersionIdMarker is not null && (request.KeyMarker is null || !VersionsOf(request.KeyMarker).Exists(e => (e.VersionId ?? "null") == request.VersionIdMarker)))
                {
                    throw new ObjectBackendException(ObjectBackendFailure.InvalidArgument, "ListObjectVersions", Describe(request.Prefix), "InvalidArgument (400): Invalid version id specified");
                }

                // Every version (or common prefix) in S3's order, with what a page that ends at it gives as its markers.
                var items = new List<(ObjectVersionSummary? Version, string? Prefix)>();
                foreach (var (key, versions) in _objects.Where(p => p.Key.StartsWith(request.Prefix, StringComparison.Ordinal)).OrderBy(p => p.Key, KeyOrder))
                {
                    if (request.KeyMarker is not null && KeyOrder.Compare(key, request.KeyMarker) < 0)
                    {
                        continue;
                    }

                    var rolledUp = RolledUp(key, request.Prefix, request.Delimiter);
                    if (rolledUp is not null)
                    {
                        if (rolledUp != request.KeyMarker && (items.Count == 0 || items[^1].Prefix != rolledUp))
                        {
                            items.Add((null, rolledUp));
                        }

                        continue;
                    }

                    var skip = key != request.KeyMarker ? 0
                        : request.VersionIdMarker is null ? versions.Count
                        : versions.FindIndex(e => (e.VersionId ?? "null") == request.VersionIdMarker) + 1;
                    items.AddRange(versions.Skip(skip).Select(e => ((ObjectVersionSummary?)new ObjectVersionSummary(
                        key, e.VersionId ?? "null", IsLatest: e == versions[0], e.IsDeleteMarker, e.Content.Length, e.LastModified), (string?)null)));
                }

                var page = items.Take(request.MaxKeys ?? 1000).ToList();
                var truncated = page.Count > 0 && page.Count < items.Count;
                var last = page.LastOrDefault();
                return new VersionListing(
                    page.Where(i => i.Version is not null).Select(i => i.Version!).ToList(),
                    page.Where(i => i.Prefix is not null).Select(i => i.Prefix!).ToList(),
                    truncated,
                    truncated ? last.Version?.Key ?? last.Prefix : null,
                    truncated ? last.Version?.VersionId : null);
            }
        });

    /// <summary>Keys in S3's order: by their UTF-8 bytes.</summary>
    private static IComparer<string> KeyOrder { get; } =
        Comparer<string>.Create((left, right) => Encoding.UTF8.GetBytes(left).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(right)));

    private static string VersionOf(string? versionId) => versionId is null ? "" : $" version={versionId}";

    private static string? RolledUp(string key, string prefix, string? delimiter)
    {
        var cut = string.IsNullOrEmpty(delimiter) ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
        return cut < 0 ? null : key[..(cut + delimiter!.Length)];
    }

    // A page ends at a key or at a common prefix (ending with the delimiter): the next starts after it, and after every key below it.
    private static bool IsAfter(string key, (string Name, bool IsPrefix) marker) =>
        KeyOrder.Compare(key, marker.Name) > 0 && !(marker.IsPrefix && key.StartsWith(marker.Name, StringComparison.Ordinal));

    private static string EncodeToken(string name, bool isPrefix) => Convert.ToBase64String(Encoding.UTF8.GetBytes((isPrefix ? "p" : "k") + name));

    private (string Name, bool IsPrefix) DecodeToken(string token, string prefix)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.Length > 1 && text[0] is 'p' or 'k')
            {
                return (text[1..], text[0] == 'p');
            }
        }
        catch (FormatException)
        {
        }

        throw new ObjectBackendException(ObjectBackendFailure.InvalidArgument, "ListObjectsV2", Describe(prefix), "InvalidArgument (400): The continuation token provided is incorrect");
    }

    private static string Crc32Of(byte[] content)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, System.IO.Hashing.Crc32.HashToUInt32(content));
        return Convert.ToBase64String(value);
    }

    private List<Entry> VersionsOf(string key) => _objects.TryGetValue(key, out var versions) ? versions : [];

    private Entry? CurrentOf(string key) => CurrentOf(VersionsOf(key));

    private static Entry? CurrentOf(List<Entry> versions) => versions.FirstOrDefault() is { IsDeleteMarker: false } newest ? newest : null;

    private Entry Add(string key, byte[] content, ObjectMetadata metadata, DateTime? lastModified)
    {
        var entry = new Entry(versioning ? NewVersionId() : null, NewETag(), content, lastModified ?? _time.GetUtcNow().UtcDateTime, metadata, IsDeleteMarker: false);
        Push(key, entry);
        return entry;
    }

    private void DeleteCurrent(string key)
    {
        if (!versioning)
        {
            _objects.Remove(key);
        }
        else if (_objects.ContainsKey(key))
        {
            Push(key, new Entry(NewVersionId(), "", [], _time.GetUtcNow().UtcDateTime, new ObjectMetadata(""), IsDeleteMarker: true));
        }
    }

    private void Push(string key, Entry entry)
    {
        if (!versioning || !_objects.TryGetValue(key, out var versions))
        {
            _objects[key] = [entry];
        }
        else
        {
            versions.Insert(0, entry);
        }
    }

    private Entry? Select(string key, ObjectSelector selector, string operation)
    {
        var versions = VersionsOf(key);
        var o = selector.VersionId is null ? CurrentOf(versions)
            : versions.Find(e => (e.VersionId ?? "null") == selector.VersionId && !e.IsDeleteMarker);
        if (o is null)
        {
            if (selector.VersionId is not null)
            {
                throw new ObjectBackendException(ObjectBackendFailure.NoSuchVersion, operation, Describe(key), "NoSuchVersion (404): The specified version does not exist.");
            }

            if (selector.IfMatch is not null)
            {
                throw Failed(operation, key, "NoSuchKey (404): The specified key does not exist.");
            }

            return null;
        }

        if (selector.IfMatch is not null && selector.IfMatch != o.ETag)
        {
            throw Failed(operation, key, "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold");
        }

        return o;
    }

    private static ObjectInfo InfoOf(string key, Entry o) => new(key, o.ETag, o.VersionId, o.Content.Length, o.LastModified, o.Metadata);

    private static ConcurrentQueue<Action<string, CancellationToken>> Queue(
        ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> hooks, string operation) => hooks.GetOrAdd(operation, _ => new());

    private static void Run(
        ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> once,
        ConcurrentDictionary<string, Action<string, CancellationToken>> every,
        string operation,
        string key,
        CancellationToken cancellationToken)
    {
        if (every.TryGetValue(operation, out var hook))
        {
            hook(key, cancellationToken);
        }

        if (once.TryGetValue(operation, out var queue) && queue.TryDequeue(out var next))
        {
            next(key, cancellationToken);
        }
    }

    private ObjectBackendException Failed(string operation, string key, string detail) =>
        new(ObjectBackendFailure.ConditionFailed, operation, Describe(key), detail);

    private string NewETag() => $"\"etag-{Interlocked.Increment(ref _version)}\"";

    private string NewVersionId() => $"v{Interlocked.Increment(ref _version):D6}";

    private Task<T> CallAsync<T>(string operation, string request, string key, CancellationToken cancellationToken, Func<T> carryOut)
    {
        _requests.Enqueue(request);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            Run(_before, _everyBefore, operation, key, cancellationToken);
            var result = carryOut();
            Run(_after, _everyAfter, operation, key, cancellationToken);
            return Task.FromResult(result);
        }
        catch (Exception e)
        {
            // Failures arrive as a faulted task, as an asynchronous client's do.
            return Task.FromException<T>(e);
        }
    }

    private sealed record Entry(string? VersionId, string ETag, byte[] Content, DateTime LastModified, ObjectMetadata Metadata, bool IsDeleteMarker);
}
