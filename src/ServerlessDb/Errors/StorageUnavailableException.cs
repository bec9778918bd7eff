namespace ServerlessDb.Errors;

/// <summary>Storage (S3) did not answer successfully within its retry deadline (HTTP 503).</summary>
public sealed class StorageUnavailableException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);
