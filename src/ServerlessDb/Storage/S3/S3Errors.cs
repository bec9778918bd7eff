using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using ServerlessDb.Resilience;

namespace ServerlessDb.Storage.S3;

/// <summary>
/// The one place that reads S3's status codes and error codes: what is worth retrying, what
/// means a lost race, what means the object is not there.
/// </summary>
internal static class S3Errors
{
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequests",
        "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException",
    };

    /// <summary>
    /// Throttling, 5xx, timeouts and network errors: what <see cref="S3ObjectBackend"/> reports as
    /// <see cref="ObjectBackendFailure.Unavailable"/>. <paramref name="attemptToken"/> tells an HTTP timeout (worth another
    /// attempt) from the caller giving up (not).
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken attemptToken) => exception switch
    {
        OperationCanceledException => !attemptToken.IsCancellationRequested,
        AmazonServiceException service => IsTransientStatus(service.StatusCode)
            || (service.ErrorCode is { } code && TransientCodes.Contains(code))
            || NetworkFailures.HasNetworkCause(service.InnerException),
        AmazonClientException client => NetworkFailures.HasNetworkCause(client.InnerException),
        _ => NetworkFailures.IsNetworkError(exception),
    };

    /// <summary>A 304 answer to a GET sent with If-None-Match: the cached copy is current.</summary>
    public static bool IsNotModified(AmazonS3Exception exception) => exception.StatusCode == HttpStatusCode.NotModified;

    /// <summary>The key does not exist (as opposed to the bucket).</summary>
    public static bool IsNoSuchKey(AmazonS3Exception exception) =>
        exception.ErrorCode == "NoSuchKey"
        || (exception.StatusCode == HttpStatusCode.NotFound && exception.ErrorCode is null or "" or "NotFound");

    /// <summary>
    /// A GET by version id found no such version of the key: never stored or expired (404 NoSuchVersion or
    /// NoSuchKey), an id S3 cannot read (400 InvalidArgument), or a delete marker (405 MethodNotAllowed).
    /// </summary>
    public static bool IsNoSuchVersion(AmazonS3Exception exception) =>
        exception.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed
        || (exception.StatusCode == HttpStatusCode.BadRequest && exception.ErrorCode == "InvalidArgument");

    /// <summary>"AccessDenied (403): Access Denied", or the exception's message when S3 did not answer.</summary>
    public static string Describe(Exception? exception) => exception switch
    {
        null => "no answer before the deadline",
        AmazonServiceException { ErrorCode: { Length: > 0 } code } service =>
            $"{code} ({(int)service.StatusCode}): {service.Message}",
        AmazonServiceException { StatusCode: not 0 } service => $"HTTP {(int)service.StatusCode}: {service.Message}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    private static bool IsTransientStatus(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
        or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
}
