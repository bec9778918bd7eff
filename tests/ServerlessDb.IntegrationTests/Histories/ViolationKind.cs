namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>What a history broke; each is one of the guarantees the checker holds the service to.</summary>
public enum ViolationKind
{
    /// <summary>An append answered 200 is not in the final list of its key.</summary>
    LostWrite,

    /// <summary>An append is stored more than once.</summary>
    DuplicatedWrite,

    /// <summary>An append answered with a definite failure is stored.</summary>
    FailedWriteStored,

    /// <summary>An append retried with one Idempotency-Key (from another container) is stored more than once.</summary>
    KeyedRetryAppliedTwice,

    /// <summary>The final state holds a value no append wrote, or a value under another key than its append's.</summary>
    Phantom,

    /// <summary>A read is not a prefix of its key's final order (the order is not one for everyone).</summary>
    NotAPrefix,

    /// <summary>A read began after an append was acknowledged (beyond its freshness window, for a stale read) and misses it.</summary>
    MissedAcknowledgedWrite,

    /// <summary>A read began after another read of its key ended (beyond its freshness window) and is shorter: it went back in time.</summary>
    ReadWentBack,

    /// <summary>An answer only a bug gives: a 500.</summary>
    ServerError,
}
