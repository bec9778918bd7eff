using System.Text.Json.Serialization;

namespace LockReaper.Events;

/// <summary>
/// The EventBridge event that a schedule rule sends (detail-type <c>Scheduled Event</c>, source
/// <c>aws.events</c>). The reaper needs none of it to work; it reads what identifies the invocation.
/// </summary>
internal sealed record ScheduledEvent
{
    public string? Id { get; init; }

    [JsonPropertyName("detail-type")]
    public string? DetailType { get; init; }

    public string? Source { get; init; }

    public string? Time { get; init; }

    /// <summary>The ARN of the rule that fired.</summary>
    public IReadOnlyList<string>? Resources { get; init; }
}
