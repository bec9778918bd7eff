using System.Globalization;

namespace ServerlessDb.Storage;

/// <summary>The deadline of a <see cref="BackendRetry"/> passed before an attempt succeeded: the backend kept failing, or did not answer.</summary>
internal sealed class BackendRetryExpiredException(TimeSpan? deadline, Exception? lastError, Exception cause)
    : Exception(Describe(deadline, lastError), lastError ?? cause)
{
    /// <summary>How long the retries went on; null when the caller's token was the deadline.</summary>
    public TimeSpan? Deadline { get; } = deadline;

    /// <summary>The last failure an attempt saw, or null when the first attempt was cut short.</summary>
    public Exception? LastError { get; } = lastError;

    private static string Describe(TimeSpan? deadline, Exception? lastError) => deadline is { } window
        ? $"S3 did not answer within {window.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: {ObjectBackendException.Describe(lastError)}"
        : $"S3 did not answer before the deadline: {ObjectBackendException.Describe(lastError)}";
}
