namespace ServerlessDb.Errors;

/// <summary>Someone else committed a new version first; nothing was uploaded (HTTP 409 once retries are spent).</summary>
public sealed class WriteConflictException(string message, Exception? innerException = null)
    : ServerlessDbException(message, innerException);
