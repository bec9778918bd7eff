using ServerlessDb.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// The list-append workload on deployments as they really are, checked by <see cref="HistoryChecker"/>:
/// bounded runs of a dozen seconds each (the history soak in bench/ runs them for minutes). Each prints its
/// seed; HISTORY_SEED re-runs one.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class HistoryTests(MotoServerFixture moto, ITestOutputHelper output)
{
    private static readonly TimeSpan Load = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Containers_with_every_lock_backend_and_both_layouts_at_once_lose_double_and_reorder_nothing()
    {
        var run = await HistoryDeployments.RollingChangeAsync(moto, HistorySeed.Resolve(20261206), Load, faults: false).WaitAsync(Budget);

        AssertHolds(run);
        Assert.True(run.Facts["layout changes between commits"] > 0, $"the database never changed layout, so the run tested less than it says: {run.Describe()}");
        Assert.True(run.Facts["commits in place"] > 0, $"no container committed in place, so the run tested less than it says: {run.Describe()}");
    }

    [Fact]
    public async Task The_same_deployment_under_dropped_and_late_answers_500s_slowdowns_and_throttling_keeps_every_guarantee()
    {
        var run = await HistoryDeployments.RollingChangeAsync(moto, HistorySeed.Resolve(20261207), Load, faults: true).WaitAsync(Budget);

        AssertHolds(run);
        Assert.True(run.Facts.Where(f => f.Key.StartsWith("fault", StringComparison.Ordinal)).Sum(f => f.Value) > 0, $"no fault fired: {run.Describe()}");
        Assert.True(run.Facts["commits in place"] > 0, $"no container committed in place under the faults: {run.Describe()}");
    }

    [Fact]
    public async Task Local_server_writers_killed_mid_commit_and_restarted_keep_every_guarantee()
    {
        var run = await HistoryDeployments.KilledWritersAsync(moto, HistorySeed.Resolve(20261208), Load).WaitAsync(Budget);

        AssertHolds(run);
        Assert.True(run.Facts["kills"] == 2, $"expected 2 kills: {run.Describe()}");
    }

    private void AssertHolds(HistoryRun run)
    {
        output.WriteLine(run.Describe());
        var counts = run.Report.Counts;
        Assert.True(run.Report.Holds, run.Describe());
        Assert.True(counts.AppendsOk > 0 && counts.ReadsOk > 0 && counts.StaleReadsOk > 0,
            $"too little happened to show anything: {run.Describe()}");
    }
}
