namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>What an operation of the list-append workload does.</summary>
public enum OperationKind
{
    /// <summary>Appends a value, unique in the whole history, to one key's list (an INSERT).</summary>
    Append,

    /// <summary>Reads one key's list in commit order.</summary>
    Read,
}
