namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>What an operation's answer says happened (README's "Failure semantics").</summary>
public enum OperationOutcome
{
    /// <summary>Answered 200 with the statement's result: an append was applied once; a read returned a list.</summary>
    Ok,

    /// <summary>A definite failure (4xx, 409, a 503 that says nothing was committed, a statement error): an append was not applied.</summary>
    Failed,

    /// <summary>"May have been committed", no answer at all, or an answer the workload cannot read: an append was applied at most once.</summary>
    Unknown,
}
