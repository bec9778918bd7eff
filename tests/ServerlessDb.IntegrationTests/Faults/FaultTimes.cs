namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// Which of the requests a rule matches it acts on, by their order among its matches (0 for the
/// first): the first N, all, those after the first K, or each with a probability drawn from a
/// seeded <see cref="Random"/> (the same seed picks the same matches in the same order).
/// </summary>
public abstract class FaultTimes
{
    public static FaultTimes Every { get; } = new Window(0, int.MaxValue);

    public static FaultTimes First(int count) => new Window(0, count);

    /// <summary>Lets <paramref name="skip"/> matches through, then acts on the next <paramref name="count"/>.</summary>
    public static FaultTimes After(int skip, int count = int.MaxValue) => new Window(skip, count);

    public static FaultTimes WithProbability(double probability, int seed) => new Chance(probability, seed);

    /// <summary>Whether to act on the match numbered <paramref name="matchIndex"/>; called once per match, under the rule's lock.</summary>
    public abstract bool Fires(int matchIndex);

    private sealed class Window(int skip, int count) : FaultTimes
    {
        public override bool Fires(int matchIndex) => matchIndex >= skip && matchIndex - skip < count;

        public override string ToString() => count == int.MaxValue ? $"after {skip}" : $"{count} after {skip}";
    }

    private sealed class Chance(double probability, int seed) : FaultTimes
    {
        private readonly Random _random = new(seed);

        public override bool Fires(int matchIndex) => _random.NextDouble() < probability;

        public override string ToString() => $"p={probability} seed={seed}";
    }
}
