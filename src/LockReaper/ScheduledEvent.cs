using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using ServerlessDb.Errors;
using ServerlessDb.Locking;
using ServerlessDb.Storage.Collection;

namespace LockReaper;

/// <summary>
/// The EventBridge event that a schedule rule sends (detail-type <c>Scheduled Event</c>, source
/// <c>aws.events</c>). The reaper needs none of it to work; it reads what identifies the invocation.
/// </summary>
internal sealed record ScheduledEvent
{
    private static readonly ScheduledEvent Empty = new();

    public string? Id { get; init; }

    [JsonPropertyName("detail-type")]
    public string? DetailType { get; init; }

    public string? Source { get; init; }

    public string? Time { get; init; }

    /// <summary>The ARN of the rule that fired.</summary>
    public IReadOnlyList<string>? Resources { get; init; }

    /// <summary>Reads the invocation's input: the EventBridge scheduled event, or nothing (an empty input or <c>{}</c>, as a manual invoke sends).</summary>
    /// <exception cref="InvalidEventException">the input is not JSON, or not a JSON object.</exception>
    public static async Task<ScheduledEvent> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        using var text = new MemoryStream();
        await input.CopyToAsync(text, cancellationToken);
        if (text.Length == 0 || text.ToArray().All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            return Empty;
        }

        text.Position = 0;
        try
        {
            return await JsonSerializer.DeserializeAsync(text, ReaperJsonContext.Default.ScheduledEvent, cancellationToken)
                ?? throw new InvalidEventException("The LockReaper's input is JSON null; expected the EventBridge scheduled event, {} or nothing.");
        }
        catch (JsonException e)
        {
            throw new InvalidEventException(
                $"The LockReaper's input is not the EventBridge scheduled event (expected a JSON object, {{}} or nothing): {e.Message}", e);
        }
    }
}

/// <summary>Source-generated (de)serializers for the scheduled event and the pass summary: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScheduledEvent))]
[JsonSerializable(typeof(ReapSummary))]
[JsonSerializable(typeof(ChunkCollectionSummary))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class ReaperJsonContext : JsonSerializerContext;
