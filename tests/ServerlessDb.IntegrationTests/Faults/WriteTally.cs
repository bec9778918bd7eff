using System.Collections.Concurrent;

namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// The answers to a run of counter increments, and the rule they must satisfy against the stored
/// counter: each write answered 200 was applied exactly once, each answer that says "may have been
/// committed" (and each write that got no answer) was applied at most once, and nothing else was applied.
/// </summary>
public sealed class WriteTally
{
    /// <summary>What a write's answer must say for it to count as "may have been committed".</summary>
    public const string MayHaveCommittedText = "may have been committed";

    private readonly ConcurrentQueue<(WriteOutcome Outcome, string Answer)> _answers = new();

    public int Applied => Count(WriteOutcome.Applied);

    public int MayHaveCommitted => Count(WriteOutcome.MayHaveCommitted);

    public int NotApplied => Count(WriteOutcome.NotApplied);

    public int NoAnswer => Count(WriteOutcome.NoAnswer);

    public int Total => _answers.Count;

    /// <summary>Classifies an increment's answer (<c>UPDATE counter SET n = n + 1</c>, one row) and records it.</summary>
    public WriteOutcome Record(int status, string body)
    {
        var outcome = status switch
        {
            200 when body.Contains("\"rows_affected\":1", StringComparison.Ordinal) => WriteOutcome.Applied,
            200 => throw new Xunit.Sdk.XunitException($"A 200 answer without the increment's result: {body}"),
            503 when body.Contains(MayHaveCommittedText, StringComparison.Ordinal) => WriteOutcome.MayHaveCommitted,
            _ => WriteOutcome.NotApplied,
        };
        _answers.Enqueue((outcome, $"{status} {body}"));
        return outcome;
    }

    public void RecordNoAnswer(string why) => _answers.Enqueue((WriteOutcome.NoAnswer, why));

    /// <summary>The request never reached a server (the connection was refused: the writer was down).</summary>
    public void RecordNotSent(string why) => _answers.Enqueue((WriteOutcome.NotApplied, why));

    /// <summary>Asserts ok200 &lt;= <paramref name="stored"/> &lt;= ok200 + mayHaveCommitted + noAnswer.</summary>
    public void AssertExplains(long stored, string context)
    {
        var most = Applied + MayHaveCommitted + NoAnswer;
        Assert.True(
            stored >= Applied && stored <= most,
            $"The stored counter is {stored}, but {Applied} writes answered 200 and {MayHaveCommitted} answered \"{MayHaveCommittedText}\" " +
            $"and {NoAnswer} got no answer (so it must be from {Applied} to {most}).{Environment.NewLine}{Describe()}{Environment.NewLine}{context}");
    }

    public string Describe() => string.Join(Environment.NewLine, _answers.Select((a, i) => $"write {i + 1}: {a.Outcome}: {Shorten(a.Answer)}"));

    private int Count(WriteOutcome outcome) => _answers.Count(a => a.Outcome == outcome);

    private static string Shorten(string answer) => answer.Length > 300 ? answer[..300] + "..." : answer;
}
