namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>What the <see cref="FaultProxy"/> does to a request a rule picked.</summary>
public enum FaultKind
{
    /// <summary>Answers an S3 error (a status and S3's XML error body) without forwarding: the request did not land.</summary>
    S3Error,

    /// <summary>Answers EC2's <c>RequestLimitExceeded</c> (HTTP 503) without forwarding: the request did not land.</summary>
    Ec2Throttle,

    /// <summary>Forwards, waits for moto's whole answer, then resets the connection: the request landed, the client sees a reset.</summary>
    DropAnswer,

    /// <summary>Resets the connection without forwarding: the request did not land.</summary>
    ResetBeforeForward,

    /// <summary>Forwards, then waits <see cref="FaultRule.Delay"/> before answering: the request landed, the answer comes late (or never, if the client gives up).</summary>
    DelayAnswer,

    /// <summary>
    /// Forwards, then answers moto's status and headers (the full Content-Length included) but only the first half of
    /// the body, and resets the connection: the request landed, the client sees a body that broke off.
    /// </summary>
    TruncateBody,

    /// <summary>Forwards, then holds moto's answer until the test calls <see cref="FaultRule.Release"/> (or the client gives up).</summary>
    HoldAnswer,

    /// <summary>Forwards, then answers moto's status, headers and whole body with one byte in the middle of the body flipped: damaged in transit.</summary>
    CorruptBody,

    /// <summary>
    /// Forwards, then answers moto's status and headers (Content-Range included) with only the first half of the body,
    /// under a Content-Length of that half, and ends the answer cleanly: a short body nothing at the HTTP level flags.
    /// </summary>
    ShortBody,
}
