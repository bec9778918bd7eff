using System.Diagnostics;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// SIGKILLs writers mid-commit: at moments spread over a window, every writer's proxy holds the answer of the
/// next PUT of the database once moto has stored it, and the writer whose PUT that was is killed (so its lock
/// stays behind and its write's outcome is unknown to its client), then restarted at once. If no PUT lands
/// within the aim deadline, a writer chosen by a seeded Random is killed at whatever it is doing.
/// </summary>
public static class AimedKills
{
    /// <summary>Kills <paramref name="kills"/> times over <paramref name="window"/>; returns how many kills hit a landed PUT whose answer was held, once every victim is up again.</summary>
    public static async Task<int> RunAsync(
        IReadOnlyList<TortureWriter> writers,
        Func<ProxiedRequest, bool> put,
        int kills,
        TimeSpan window,
        TimeSpan aimDeadline,
        int seed,
        Action<string> mark)
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        var aimed = 0;
        var restarts = new List<Task>();
        for (var kill = 1; kill <= kills; kill++)
        {
            // Chaos pacing, not synchronization; the aim below waits on the proxies' signal.
            var at = window * kill / (kills + 1);
            if (at > clock.Elapsed)
            {
                await Task.Delay(at - clock.Elapsed);
            }

            var holds = writers
                .Select(w => (Writer: w, Hold: w.Proxy.Insert(FaultRule.DelayAnswer(put, FaultTimes.First(1), TimeSpan.FromSeconds(30)))))
                .ToList();
            try
            {
                await Task.WhenAny(holds.Select(h => h.Hold.Acted)).WaitAsync(aimDeadline);
            }
            catch (TimeoutException)
            {
                // No PUT landed (a dead writer's lock may block them all until the reaper or the lease's expiry frees it).
            }

            foreach (var (writer, hold) in holds)
            {
                writer.Proxy.Remove(hold);
            }

            // The lock lets one PUT through at a time, so at most one hold has acted (without a lock, the first is taken).
            var landed = holds.Where(h => h.Hold.Acted.IsCompleted).Select(h => h.Writer).FirstOrDefault();
            var victim = landed ?? writers[random.Next(writers.Count)];
            aimed += landed is null ? 0 : 1;
            mark($"killing {victim.Name} ({(landed is null ? "no PUT landed, killed at whatever it does" : "its PUT landed, answer held")})");
            await victim.KillAsync();
            // Restarting takes seconds on a busy machine; the next kill need not wait for it.
            restarts.Add(RestartAsync(victim, mark));
        }

        await Task.WhenAll(restarts);
        return aimed;
    }

    private static async Task RestartAsync(TortureWriter writer, Action<string> mark)
    {
        await writer.StartAsync();
        mark($"{writer.Name} restarted");
    }
}
