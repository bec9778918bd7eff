using System.Diagnostics;
using System.Globalization;
using ServerlessDb.IntegrationTests.Histories;
using ServerlessDb.IntegrationTests.Infrastructure;

// The history soak: the integration tests' list-append workload (tests/ServerlessDb.IntegrationTests/Histories) on
// the same deployments, round after round for as long as asked, each round checked by HistoryChecker. Prints a line
// per round and the totals; exits 1 if any round found a violation. See docs/fault-model.md ("Histories").
//
//   dotnet run -c Release --project bench/ServerlessDb.HistorySoak -- [--minutes 10] [--round-seconds 30] [--seed 1] [--log FILE]
//       [--deployment rolling|faults|killed] [--padding-mib N]
//
// --deployment runs only that deployment; --padding-mib makes the database N MiB larger, and so every whole-file commit.
// The containers' request log lines go to FILE (a temporary file by default), not to the console.
// Round r runs deployment r mod 3 (rolling change, the same under faults, killed writers) with seed (seed + r):
// a failing round is re-run alone by the test of its deployment with HISTORY_SEED set to its seed.
var minutes = 10.0;
var roundSeconds = 30.0;
var seed = 1;
string? only = null;
var paddingMib = 0;
var log = Path.Combine(Path.GetTempPath(), $"serverlessdb-history-soak-{DateTime.UtcNow:yyyyMMddTHHmmss}.log");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--minutes" when i + 1 < args.Length:
            minutes = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--round-seconds" when i + 1 < args.Length:
            roundSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--seed" when i + 1 < args.Length:
            seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--deployment" when i + 1 < args.Length && args[i + 1] is "rolling" or "faults" or "killed":
            only = args[++i];
            break;
        case "--padding-mib" when i + 1 < args.Length:
            paddingMib = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--log" when i + 1 < args.Length:
            log = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: [--minutes 10] [--round-seconds 30] [--seed 1] [--log FILE] [--deployment rolling|faults|killed] [--padding-mib N]");
            return 2;
    }
}

// The handlers log each request to the console: keep the console for the rounds and the totals.
var console = Console.Out;
await using var logFile = new StreamWriter(log) { AutoFlush = true };
Console.SetOut(TextWriter.Synchronized(logFile));
console.WriteLine($"history soak: {minutes} min of {roundSeconds} s rounds from seed {seed}{(only is null ? "" : $", {only} only")}{(paddingMib > 0 ? $", database padded by {paddingMib} MiB" : "")}; request log in {log}");
var moto = new MotoServerFixture();
await moto.InitializeAsync();
try
{
    var clock = Stopwatch.StartNew();
    var round = TimeSpan.FromSeconds(roundSeconds);
    var runs = new List<HistoryRun>();
    var failedRounds = new List<string>();
    for (var r = 0; clock.Elapsed < TimeSpan.FromMinutes(minutes); r++)
    {
        var roundSeed = seed + r;
        var deployment = only ?? (r % 3) switch { 0 => "rolling", 1 => "faults", _ => "killed" };
        HistoryRun run;
        try
        {
            run = deployment switch
            {
                "rolling" => await HistoryDeployments.RollingChangeAsync(moto, roundSeed, round, faults: false, paddingMib),
                "faults" => await HistoryDeployments.RollingChangeAsync(moto, roundSeed, round, faults: true, paddingMib),
                _ => await HistoryDeployments.KilledWritersAsync(moto, roundSeed, round, paddingMib),
            };
        }
        catch (Exception e)
        {
            // The harness failed (a writer that would not restart, say), not a guarantee: say so, go on.
            failedRounds.Add($"round {r + 1} ({deployment}, seed {roundSeed}): {e.GetType().Name}: {e.Message}");
            console.WriteLine($"round {r + 1} at {clock.Elapsed.TotalMinutes:0.0} min could not run: {failedRounds[^1]}");
            console.WriteLine();
            continue;
        }

        runs.Add(run);
        console.WriteLine($"round {r + 1} at {clock.Elapsed.TotalMinutes:0.0} min: {run.Describe()}");
        console.WriteLine();
    }

    var violations = runs.Sum(r => r.Report.Violations.Count);
    var rounds = runs.Count + failedRounds.Count;
    console.WriteLine($"history soak: {rounds} rounds in {clock.Elapsed.TotalMinutes:0.0} min, seeds {seed} to {seed + rounds - 1}");
    foreach (var deployment in runs.GroupBy(r => r.Deployment))
    {
        var facts = deployment.SelectMany(r => r.Facts).Where(f => !f.Key.StartsWith("fault", StringComparison.Ordinal))
            .GroupBy(f => f.Key).Select(g => $"{g.Key} {g.Sum(f => f.Value)}");
        var faults = deployment.SelectMany(r => r.Facts).Where(f => f.Key.StartsWith("fault", StringComparison.Ordinal)).Sum(f => f.Value);
        console.WriteLine($"  {deployment.Key}: {deployment.Count()} rounds, {deployment.Select(r => r.Report.Counts).Aggregate((a, b) => a.Plus(b))}; {string.Join(", ", facts)}{(faults > 0 ? $", faults fired {faults}" : "")}");
    }

    if (runs.Count > 0)
    {
        console.WriteLine($"  total: {runs.Select(r => r.Report.Counts).Aggregate((a, b) => a.Plus(b))}");
    }

    failedRounds.ForEach(f => console.WriteLine($"  could not run: {f}"));
    console.WriteLine(violations == 0 ? "  no violations" : $"  {violations} violations (rounds above)");
    return violations == 0 && failedRounds.Count == 0 ? 0 : 1;
}
finally
{
    await moto.DisposeAsync();
}
