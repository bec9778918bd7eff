namespace ServerlessDb.Storage;

/// <summary>
/// An <see cref="IObjectBackend"/> call failed: <see cref="Failure"/> says how, <see cref="Detail"/> what the backend
/// said, as messages quote it ("SlowDown (503): Please reduce your request rate."), and the inner exception is the
/// backend's own.
/// </summary>
internal sealed class ObjectBackendException(ObjectBackendFailure failure, string operation, string location, string detail, Exception? innerException = null)
    : Exception($"{operation} on {location} failed: {detail}", innerException)
{
    public ObjectBackendFailure Failure { get; } = failure;

    /// <summary>The backend's call, for example <c>PutObject</c>.</summary>
    public string Operation { get; } = operation;

    /// <summary>What the backend said: its error code, status and message, or what broke when it did not answer.</summary>
    public string Detail { get; } = detail;
}
