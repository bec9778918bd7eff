namespace ServerlessDb.Storage;

/// <summary>What an <see cref="ObjectBackendException"/> means to its caller.</summary>
internal enum ObjectBackendFailure
{
    /// <summary>The condition did not hold: the key exists (If-None-Match), it is another version or gone (If-Match). S3: 412, or 404 for If-Match.</summary>
    ConditionFailed,

    /// <summary>Another conditional write on the key was under way; the condition may hold on another attempt. S3: 409 ConditionalRequestConflict.</summary>
    Conflict,

    /// <summary>Throttled, a server error, a timeout or a broken connection: the call may or may not have been carried out; worth another attempt.</summary>
    Unavailable,

    /// <summary>A read by version id found no such version (never stored, expired, a deletion marker). Missing keys are no failure: null, or <see cref="ObjectRead.Missing"/>.</summary>
    NoSuchVersion,

    /// <summary>An argument the backend cannot read (a version id or page marker it never gave). S3: 400 InvalidArgument.</summary>
    InvalidArgument,

    /// <summary>The backend answered with any other error (access denied, no such bucket, ...): another attempt would fail the same.</summary>
    Refused,
}
