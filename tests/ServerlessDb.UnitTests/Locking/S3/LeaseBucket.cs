using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Moq;

namespace ServerlessDb.UnitTests.Locking.S3;

/// <summary>
/// A Moq <see cref="IAmazonS3"/> that keeps objects in memory and honours the conditions the lease lock
/// sends, as S3 does: PUT <c>If-None-Match: *</c> and <c>If-Match</c> (412 when they fail, 404 for
/// If-Match on a missing key), DELETE <c>If-Match</c>. A fault queued for an operation is thrown instead
/// of (or, with <see cref="LoseAnswer"/>, after) carrying it out. Every request is recorded.
/// </summary>
internal sealed class LeaseBucket
{
    public const string Bucket = "my-databases";

    private readonly ConcurrentDictionary<string, (string ETag, byte[] Body, DateTime LastModified)> _objects = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Func<Exception?>>> _faults = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private int _version;

    public LeaseBucket()
    {
        S3.Setup(s => s.PutObjectAsync(It.IsAny<PutObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((PutObjectRequest r, CancellationToken _) => Task.FromResult(Put(r)));
        S3.Setup(s => s.GetObjectAsync(It.IsAny<GetObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((GetObjectRequest r, CancellationToken _) => Task.FromResult(Get(r)));
        S3.Setup(s => s.DeleteObjectAsync(It.IsAny<DeleteObjectRequest>(), It.IsAny<CancellationToken>()))
            .Returns((DeleteObjectRequest r, CancellationToken _) => Task.FromResult(Delete(r)));
        S3.Setup(s => s.ListObjectsV2Async(It.IsAny<ListObjectsV2Request>(), It.IsAny<CancellationToken>()))
            .Returns((ListObjectsV2Request r, CancellationToken _) => Task.FromResult(List(r)));
    }

    public Mock<IAmazonS3> S3 { get; } = new(MockBehavior.Strict);

    /// <summary>"PUT key If-None-Match=*", "GET key", "DELETE key If-Match=etag", in order.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    public IReadOnlyList<string> Keys => _objects.Keys.Order(StringComparer.Ordinal).ToList();

    public static AmazonS3Exception Error(HttpStatusCode status, string code) =>
        new($"S3 says {code}", status >= HttpStatusCode.InternalServerError ? ErrorType.Receiver : ErrorType.Sender, code, "request-1", status);

    /// <summary>The next <paramref name="operation"/> (PUT, GET, DELETE, LIST) throws <paramref name="fault"/> without being carried out.</summary>
    public void Fail(string operation, Exception fault) => Queue(operation).Enqueue(() => throw fault);

    /// <summary>The next <paramref name="operation"/> is carried out, and then its answer is lost (a network error).</summary>
    public void LoseAnswer(string operation) => Queue(operation).Enqueue(() => new HttpRequestException("connection reset"));

    /// <summary>Stores <paramref name="lease"/> at <paramref name="key"/> as another writer would; returns its ETag.</summary>
    public string Store(string key, string body, DateTime? lastModified = null)
    {
        var etag = NewETag();
        _objects[key] = (etag, Encoding.UTF8.GetBytes(body), lastModified ?? DateTime.UtcNow);
        return etag;
    }

    public string? ETagOf(string key) => _objects.TryGetValue(key, out var o) ? o.ETag : null;

    public string? BodyOf(string key) => _objects.TryGetValue(key, out var o) ? Encoding.UTF8.GetString(o.Body) : null;

    private ConcurrentQueue<Func<Exception?>> Queue(string operation) => _faults.GetOrAdd(operation, _ => new());

    // Runs a queued fault before the operation (it throws) or returns one to throw after it (a lost answer).
    private Exception? FaultFor(string operation) =>
        _faults.TryGetValue(operation, out var queue) && queue.TryDequeue(out var fault) ? fault() : null;

    private string NewETag() => $"\"etag-{Interlocked.Increment(ref _version)}\"";

    private PutObjectResponse Put(PutObjectRequest request)
    {
        _requests.Enqueue($"PUT {request.Key}" + (request.IfNoneMatch is { } none ? $" If-None-Match={none}" : "") + (request.IfMatch is { } match ? $" If-Match={match}" : ""));
        var lost = FaultFor("PUT");
        using var body = new MemoryStream();
        request.InputStream.CopyTo(body);
        lock (_objects)
        {
            var exists = _objects.TryGetValue(request.Key, out var current);
            if (request.IfNoneMatch == "*" && exists)
            {
                throw Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed");
            }

            if (request.IfMatch is { } etag)
            {
                if (!exists)
                {
                    throw Error(HttpStatusCode.NotFound, "NoSuchKey");
                }

                if (current.ETag != etag)
                {
                    throw Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed");
                }
            }

            var stored = NewETag();
            _objects[request.Key] = (stored, body.ToArray(), DateTime.UtcNow);
            return lost is null ? new PutObjectResponse { ETag = stored } : throw lost;
        }
    }

    private GetObjectResponse Get(GetObjectRequest request)
    {
        _requests.Enqueue($"GET {request.Key}");
        var lost = FaultFor("GET");
        if (!_objects.TryGetValue(request.Key, out var current))
        {
            throw Error(HttpStatusCode.NotFound, "NoSuchKey");
        }

        return lost is null
            ? new GetObjectResponse { ETag = current.ETag, LastModified = current.LastModified, ResponseStream = new MemoryStream(current.Body) }
            : throw lost;
    }

    private DeleteObjectResponse Delete(DeleteObjectRequest request)
    {
        _requests.Enqueue($"DELETE {request.Key}" + (request.IfMatch is { } match ? $" If-Match={match}" : ""));
        var lost = FaultFor("DELETE");
        lock (_objects)
        {
            if (!_objects.TryGetValue(request.Key, out var current))
            {
                throw Error(HttpStatusCode.NotFound, "NoSuchKey");
            }

            if (request.IfMatch is { } etag && current.ETag != etag)
            {
                throw Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed");
            }

            _objects.TryRemove(request.Key, out _);
            return lost is null ? new DeleteObjectResponse() : throw lost;
        }
    }

    private ListObjectsV2Response List(ListObjectsV2Request request)
    {
        _requests.Enqueue($"LIST {request.Prefix}");
        if (FaultFor("LIST") is { } lost)
        {
            throw lost;
        }

        return new ListObjectsV2Response
        {
            S3Objects = _objects.Keys.Where(k => k.StartsWith(request.Prefix, StringComparison.Ordinal)).Select(k => new S3Object { Key = k }).ToList(),
            IsTruncated = false,
        };
    }
}
