namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>One broken guarantee: what, in a sentence, and the operations involved.</summary>
public sealed record HistoryViolation(ViolationKind Kind, string Message, IReadOnlyList<HistoryOperation> Operations)
{
    public override string ToString() =>
        $"{Kind}: {Message}{string.Concat(Operations.Select(o => $"{Environment.NewLine}    {o}"))}";
}
