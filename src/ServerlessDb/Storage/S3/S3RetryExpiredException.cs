using System.Globalization;

namespace ServerlessDb.Storage.S3;

/// <summary>The deadline of an <see cref="S3Retry"/> passed before an attempt succeeded: S3 kept failing, or did not answer.</summary>
internal sealed class S3RetryExpiredException(TimeSpan? deadline, Exception? lastError, Exception cause)
    : Exception(Describe(deadline, lastError), lastError ?? cause)
{
    /// <summary>How long the retries went on; null when the caller's token was the deadline.</summary>
    public TimeSpan? Deadline { get; } = deadline;

    /// <summary>The last failure an attempt saw, or null when the first attempt was cut short.</summary>
    public Exception? LastError { get; } = lastError;

    private static string Describe(TimeSpan? deadline, Exception? lastError) => deadline is { } window
        ? $"S3 did not answer within {window.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: {S3Errors.Describe(lastError)}"
        : $"S3 did not answer before the deadline: {S3Errors.Describe(lastError)}";
}
