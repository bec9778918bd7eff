namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>How many operations of each kind and outcome a history holds.</summary>
public sealed record HistoryCounts(
    int Appends,
    int AppendsOk,
    int AppendsFailed,
    int AppendsUnknown,
    int LogicalAppends,
    int KeyedRetries,
    int Reads,
    int ReadsOk,
    int StaleReadsOk,
    int FinalValues)
{
    public static HistoryCounts Of(IReadOnlyList<HistoryOperation> operations, IReadOnlyDictionary<int, IReadOnlyList<long>> final)
    {
        var appends = operations.Where(o => o.Kind == OperationKind.Append).ToList();
        var reads = operations.Where(o => o.Kind == OperationKind.Read).ToList();
        return new HistoryCounts(
            appends.Count,
            appends.Count(a => a.Outcome == OperationOutcome.Ok),
            appends.Count(a => a.Outcome == OperationOutcome.Failed),
            appends.Count(a => a.Outcome == OperationOutcome.Unknown),
            appends.Select(a => a.Value).Distinct().Count(),
            appends.Where(a => a.IdempotencyKey is not null).GroupBy(a => a.Value).Sum(g => g.Count() - 1),
            reads.Count,
            reads.Count(r => r.Outcome == OperationOutcome.Ok),
            reads.Count(r => r.Outcome == OperationOutcome.Ok && r.Freshness is not null),
            final.Values.Sum(list => list.Count));
    }

    public HistoryCounts Plus(HistoryCounts other) => new(
        Appends + other.Appends,
        AppendsOk + other.AppendsOk,
        AppendsFailed + other.AppendsFailed,
        AppendsUnknown + other.AppendsUnknown,
        LogicalAppends + other.LogicalAppends,
        KeyedRetries + other.KeyedRetries,
        Reads + other.Reads,
        ReadsOk + other.ReadsOk,
        StaleReadsOk + other.StaleReadsOk,
        FinalValues + other.FinalValues);

    public override string ToString() =>
        $"{Appends} appends ({AppendsOk} ok, {AppendsFailed} failed, {AppendsUnknown} unknown; {LogicalAppends} values, {KeyedRetries} keyed retries), " +
        $"{Reads} reads ({ReadsOk} ok, {StaleReadsOk} of them level=none), {FinalValues} values stored";
}
