namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>One run of the list-append workload on one deployment: its seed, what the checker found, and facts that show what the run exercised.</summary>
public sealed record HistoryRun(string Deployment, int Seed, TimeSpan Elapsed, HistoryReport Report, IReadOnlyDictionary<string, int> Facts)
{
    public string Describe() =>
        $"{Deployment}, seed {Seed} (re-run with {HistorySeed.Variable}={Seed}), {Elapsed.TotalSeconds:0.0}s: " +
        $"{string.Join(", ", Facts.Select(f => $"{f.Key} {f.Value}"))}{Environment.NewLine}{Report.Describe()}";
}
