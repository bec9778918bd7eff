using System.Collections.Concurrent;
using System.Text;
using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// An <see cref="IObjectBackend"/> in memory that keeps S3's promises: a conditional put or delete checks and writes
/// under one lock, so it is atomic as S3's is, and every put gives a new ETag. For the tests: every request is
/// recorded ("PUT key If-None-Match=*", "GET key", "DELETE key If-Match=etag", "LIST prefix"); a fault queued for an
/// operation is thrown instead of carrying it out, or after it (<see cref="LoseAnswer"/>); hooks run before or after
/// every call of an operation, to force an interleaving.
/// </summary>
internal sealed class InMemoryObjectBackend : IObjectBackend
{
    public const string Bucket = "my-databases";

    private readonly Dictionary<string, Entry> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> _before = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Action<string, CancellationToken>>> _after = new();
    private readonly ConcurrentDictionary<string, Action<string, CancellationToken>> _everyBefore = new();
    private readonly ConcurrentDictionary<string, Action<string, CancellationToken>> _everyAfter = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private int _version;

    /// <summary>Requests in the order they were made.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_objects)
            {
                return _objects.Keys.Order(StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>A failure as the S3 backend reports it, saying what S3 said (<paramref name="detail"/>, for example "SlowDown (503): ...").</summary>
    public static ObjectBackendException Error(ObjectBackendFailure failure, string detail) =>
        new(failure, "Test", $"s3://{Bucket}/", detail);

    /// <summary>The next <paramref name="operation"/> (PUT, GET, DELETE, LIST) throws <paramref name="fault"/> without being carried out.</summary>
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
            var entry = new Entry(NewETag(), Encoding.UTF8.GetBytes(body), lastModified ?? DateTime.UtcNow, new ObjectMetadata("application/octet-stream"));
            _objects[key] = entry;
            return entry.ETag;
        }
    }

    /// <summary>Deletes <paramref name="key"/> unconditionally and unrecorded, as another writer would.</summary>
    public void Remove(string key)
    {
        lock (_objects)
        {
            _objects.Remove(key);
        }
    }

    public string? ETagOf(string key)
    {
        lock (_objects)
        {
            return _objects.TryGetValue(key, out var o) ? o.ETag : null;
        }
    }

    public string? BodyOf(string key)
    {
        lock (_objects)
        {
            return _objects.TryGetValue(key, out var o) ? Encoding.UTF8.GetString(o.Content) : null;
        }
    }

    public string Name => "S3";

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public Task<ObjectVersioning> VersioningAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new ObjectVersioning(false, "never enabled"));

    public Task<ObjectInfo?> HeadAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) =>
        CallAsync("HEAD", $"HEAD {key}", key, cancellationToken, () =>
        {
            lock (_objects)
            {
                return Select(key, selector, "HeadObject") is { } o ? InfoOf(key, o) : null;
            }
        });

    public Task<ObjectRead> GetAsync(string key, ObjectSelector selector, CancellationToken cancellationToken) =>
        CallAsync("GET", $"GET {key}", key, cancellationToken, () =>
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

                var offset = (int)Math.Min(selector.Range?.Offset ?? 0, o.Content.Length);
                var length = (int)Math.Min(selector.Range?.Length ?? long.MaxValue, o.Content.Length - offset);
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

            lock (_objects)
            {
                var exists = _objects.TryGetValue(key, out var current);
                if (condition.IsConditional && (condition.ETag is null ? exists : !exists || current!.ETag != condition.ETag))
                {
                    throw Failed("PutObject", key, exists ? "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold" : "NoSuchKey (404): The specified key does not exist.");
                }

                var entry = new Entry(NewETag(), content, DateTime.UtcNow, metadata);
                _objects[key] = entry;
                return new PutResult(entry.ETag, null);
            }
        });

    public Task DeleteAsync(string key, string? ifMatch, string? versionId, CancellationToken cancellationToken) =>
        CallAsync("DELETE", $"DELETE {key}" + (ifMatch is null ? "" : $" If-Match={ifMatch}"), key, cancellationToken, () =>
        {
            lock (_objects)
            {
                var exists = _objects.TryGetValue(key, out var current);
                if (ifMatch is not null && (!exists || current!.ETag != ifMatch))
                {
                    throw Failed("DeleteObject", key, exists ? "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold" : "NoSuchKey (404): The specified key does not exist.");
                }

                return _objects.Remove(key);
            }
        });

    public async Task<IReadOnlyList<VersionDeleteFailure>> DeleteVersionsAsync(IReadOnlyList<ObjectVersionRef> versions, CancellationToken cancellationToken)
    {
        foreach (var version in versions)
        {
            await DeleteAsync(version.Key, ifMatch: null, version.VersionId, cancellationToken);
        }

        return [];
    }

    public Task<ObjectListing> ListAsync(ListRequest request, CancellationToken cancellationToken) =>
        CallAsync("LIST", $"LIST {request.Prefix}", request.Prefix, cancellationToken, () =>
        {
            lock (_objects)
            {
                var objects = new List<ObjectSummary>();
                var prefixes = new SortedSet<string>(StringComparer.Ordinal);
                foreach (var (key, o) in _objects.Where(p => p.Key.StartsWith(request.Prefix, StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (request.StartAfter is not null && string.CompareOrdinal(key, request.StartAfter) <= 0)
                    {
                        continue;
                    }

                    var cut = request.Delimiter is null ? -1 : key.IndexOf(request.Delimiter, request.Prefix.Length, StringComparison.Ordinal);
                    if (cut >= 0)
                    {
                        prefixes.Add(key[..(cut + request.Delimiter!.Length)]);
                    }
                    else
                    {
                        objects.Add(new ObjectSummary(key, o.Content.Length, o.LastModified));
                    }
                }

                return new ObjectListing(objects, prefixes.ToList(), null);
            }
        });

    public Task<VersionListing> ListVersionsAsync(VersionListRequest request, CancellationToken cancellationToken) =>
        CallAsync("LIST", $"LIST VERSIONS {request.Prefix}", request.Prefix, cancellationToken, () =>
        {
            lock (_objects)
            {
                var versions = _objects.Where(p => p.Key.StartsWith(request.Prefix, StringComparison.Ordinal))
                    .OrderBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => new ObjectVersionSummary(p.Key, "null", IsLatest: true, IsDeleteMarker: false, p.Value.Content.Length, p.Value.LastModified))
                    .ToList();
                return new VersionListing(versions, [], IsTruncated: false, null, null);
            }
        });

    private Entry? Select(string key, ObjectSelector selector, string operation)
    {
        if (!_objects.TryGetValue(key, out var o) || (selector.VersionId is not null && selector.VersionId != "null"))
        {
            if (selector.IfMatch is not null && selector.VersionId is null)
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

    private static ObjectInfo InfoOf(string key, Entry o) => new(key, o.ETag, null, o.Content.Length, o.LastModified, o.Metadata);

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

    private sealed record Entry(string ETag, byte[] Content, DateTime LastModified, ObjectMetadata Metadata);
}
