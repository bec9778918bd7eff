namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>What the answer to one write says about whether it was applied.</summary>
public enum WriteOutcome
{
    /// <summary>200 with the statement's result: applied once.</summary>
    Applied,

    /// <summary>503 whose body says the write "may have been committed": applied once or not at all.</summary>
    MayHaveCommitted,

    /// <summary>Any other answer (503 lock or storage unavailable, 409): not applied.</summary>
    NotApplied,

    /// <summary>No answer at all (the server was killed, the connection broke): applied once or not at all.</summary>
    NoAnswer,
}
