using System.Globalization;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// The seed of a history run: each test's own, or HISTORY_SEED when set (to re-run a failing seed). A seed
/// fixes every random choice (which key, append or read, keyed or not, which faults fire, when to kill);
/// how the operations interleave still depends on timing, so a seed reproduces a run's shape, not its schedule.
/// </summary>
public static class HistorySeed
{
    public const string Variable = "HISTORY_SEED";

    public static int Resolve(int defaultSeed)
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return defaultSeed;
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : throw new InvalidOperationException($"{Variable}={value} is not an integer seed.");
    }
}
