namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>What the checker found in a history, and how much there was to check.</summary>
public sealed record HistoryReport(IReadOnlyList<HistoryViolation> Violations, HistoryCounts Counts)
{
    public bool Holds => Violations.Count == 0;

    public string Describe() => Holds
        ? $"no violations in {Counts}"
        : $"{Violations.Count} violations in {Counts}:{Environment.NewLine}{string.Join(Environment.NewLine, Violations.Take(40))}" +
          (Violations.Count > 40 ? $"{Environment.NewLine}... and {Violations.Count - 40} more" : "");
}
