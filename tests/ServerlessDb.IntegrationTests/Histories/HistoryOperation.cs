using System.Globalization;

namespace ServerlessDb.IntegrationTests.Histories;

/// <summary>
/// One operation of a history, as its client saw it: what it asked, when it started and ended (time since
/// the history began, on one monotonic clock), and what the answer said. A retried append is one
/// operation per attempt, each with the same <see cref="Value"/> and <see cref="IdempotencyKey"/>.
/// </summary>
public sealed record HistoryOperation
{
    public required int Id { get; init; }

    /// <summary>The container (or process) that was asked.</summary>
    public required string Client { get; init; }

    public required OperationKind Kind { get; init; }

    public required int Key { get; init; }

    /// <summary>An append's value, unique in the history (a retry of it reuses it).</summary>
    public long Value { get; init; }

    /// <summary>An append's Idempotency-Key, if it sent one.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>A read with <c>level=none&amp;freshness=</c>: the window within which it may serve a cached copy. Null for the default level.</summary>
    public TimeSpan? Freshness { get; init; }

    public required TimeSpan Start { get; init; }

    public required TimeSpan End { get; init; }

    public required OperationOutcome Outcome { get; init; }

    /// <summary>The HTTP status, or null when there was no answer.</summary>
    public int? Status { get; init; }

    /// <summary>An ok read's list, in the order the database gave it.</summary>
    public IReadOnlyList<long>? Values { get; init; }

    /// <summary>The answer's body (shortened), for reports.</summary>
    public string Answer { get; init; } = "";

    public override string ToString()
    {
        var what = Kind == OperationKind.Append
            ? $"append {Value} to k{Key}{(IdempotencyKey is null ? "" : $" (key ...{IdempotencyKey[Math.Max(0, IdempotencyKey.Length - 8)..]})")}"
            : $"read k{Key}{(Freshness is { } window ? $" (level=none, freshness {window.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s)" : "")}";
        var answer = Outcome == OperationOutcome.Ok && Values is { } values
            ? $"ok, {values.Count} values{(values.Count == 0 ? "" : $" ending {string.Join(",", values.Skip(Math.Max(0, values.Count - 4)))}")}"
            : $"{Outcome.ToString().ToLowerInvariant()} ({(Status is { } status ? status.ToString(CultureInfo.InvariantCulture) : "no answer")}{(Outcome == OperationOutcome.Ok ? "" : $": {Answer}")})";
        return $"#{Id} {Client} {what}, {Seconds(Start)}-{Seconds(End)}s: {answer}";
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
}
