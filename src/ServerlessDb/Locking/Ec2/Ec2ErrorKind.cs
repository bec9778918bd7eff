namespace ServerlessDb.Locking.Ec2;

/// <summary>What an <see cref="Ec2Exception"/> means to a caller deciding whether to wait, retry or give up.</summary>
public enum Ec2ErrorKind
{
    /// <summary>Any other error EC2 reported (invalid parameter, missing VPC, limit reached, not authorized, ...): not retryable.</summary>
    Other,

    /// <summary><c>InvalidGroup.Duplicate</c>: a group of that name already exists (for the lock: it is held).</summary>
    GroupDuplicate,

    /// <summary><c>InvalidGroup.NotFound</c>: the group does not exist (for the lock: already released or reaped).</summary>
    GroupNotFound,

    /// <summary><c>DependencyViolation</c>: the group is still referenced and cannot be deleted.</summary>
    DependencyViolation,

    /// <summary><c>RequestLimitExceeded</c> and the other codes the SDK reads as throttling: retry with backoff.</summary>
    Throttling,

    /// <summary>No answer (a network failure, a timeout), an HTTP 5xx or a server-side code: retry with backoff.</summary>
    Transient,
}
