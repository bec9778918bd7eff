namespace ServerlessDb.Errors;

/// <summary>
/// An Idempotency-Key was sent again with a different request within its retention window (HTTP 422):
/// the first request's answer cannot stand for another request, and running it would break the promise.
/// </summary>
public sealed class IdempotencyKeyReusedException(string message) : ServerlessDbException(message);
