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

    public string Describe(string key) => $"s3://{Bucket}/{key}";

    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, ObjectMetadata metadata, CancellationToken cancellationToken) =>
        CallAsync("PUT", $"PUT {key} {condition}", key, cancellationToken, () =>
        {
            lock (_objects)
            {
                var exists = _objects.TryGetValue(key, out var current);
                if (condition.ETag is null ? exists : !exists || current!.ETag != condition.ETag)
                {
                    throw Failed("PutObject", key, exists ? "PreconditionFailed (412): At least one of the pre-conditions you specified did not hold" : "NoSuchKey (404): The specified key does not exist.");
                }

                var entry = new Entry(NewETag(), content.ToArray(), DateTime.UtcNow, metadata);
                _objects[key] = entry;
                return entry.ETag;
            }
        });

    public Task<StoredObject?> GetAsync(string key, int maxBytes, CancellationToken cancellationToken) =>
        CallAsync("GET", $"GET {key}", key, cancellationToken, () =>
        {
            lock (_objects)
            {
                return _objects.TryGetValue(key, out var o)
                    ? new StoredObject(key, o.ETag, o.Content[..Math.Min(o.Content.Length, maxBytes)], o.Content.Length <= maxBytes, o.LastModified, o.Metadata)
                    : null;
            }
        });

    public Task DeleteAsync(string key, string? ifMatch, CancellationToken cancellationToken) =>
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

    public Task<ObjectListing> ListAsync(string prefix, string? continuation, CancellationToken cancellationToken) =>
        CallAsync("LIST", $"LIST {prefix}", prefix, cancellationToken, () =>
        {
            lock (_objects)
            {
                return new ObjectListing(_objects.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList(), null);
            }
        });

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
