namespace ServerlessDb.Errors;

/// <summary>The request or its result is larger than the configured limit (HTTP 413).</summary>
public sealed class PayloadTooLargeException(string message) : ServerlessDbException(message);
