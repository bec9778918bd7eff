
namespace ServerlessDb.Errors;

/// <summary>The sandbox refused a statement (HTTP 400); the request changes nothing.</summary>
public sealed class StatementRefusedException(string message) : ServerlessDbException(message);
