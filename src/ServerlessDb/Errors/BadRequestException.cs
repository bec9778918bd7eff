namespace ServerlessDb.Errors;

/// <summary>The request is malformed or refused before anything ran (HTTP 400).</summary>
public sealed class BadRequestException(string message) : ServerlessDbException(message);
