namespace ServerlessDb.Storage;

/// <summary>
/// An <see cref="IObjectBackend"/> call failed: <see cref="Failure"/> says how, <see cref="Detail"/> what the backend
/// said, as messages quote it ("SlowDown (503): Please reduce your request rate."), and the inner exception is the
/// backend's own.
/// </summary>
internal sealed class ObjectBackendException(ObjectBackendFailure failure, string operation, string location, string detail, Exception? innerException = null, bool answered = true)
    : Exception($"{operation} on {location} failed: {detail}", innerException)
{
    public ObjectBackendFailure Failure { get; } = failure;

    /// <summary>
    /// The backend answered (an error status): the call was not carried out. False when no answer came (a timeout, a
    /// broken connection): a write may have landed all the same, and only a look at what is stored can tell.
    /// </summary>
    public bool Answered { get; } = answered;

    /// <summary>The backend's call, for example <c>PutObject</c>.</summary>
    public string Operation { get; } = operation;

    /// <summary>What the backend said: its error code, status and message, or what broke when it did not answer.</summary>
    public string Detail { get; } = detail;

    /// <summary>
    /// What a failure of a backend call said, as messages quote it: the backend's own words for its failures
    /// ("SlowDown (503): Please reduce your request rate."), the last failure for an expired retry, the type and
    /// message of anything else.
    /// </summary>
    public static string Describe(Exception? exception) => exception switch
    {
        null => "no answer before the deadline",
        BackendRetryExpiredException { LastError: ObjectBackendException } expired => Describe(expired.LastError),
        BackendRetryExpiredException expired => expired.Message,
        ObjectBackendException backend => backend.Detail,
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };
}
