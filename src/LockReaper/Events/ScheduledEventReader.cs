using System.Text.Json;

namespace LockReaper.Events;

/// <summary>Reads the invocation's input: the EventBridge scheduled event, or nothing (an empty input or <c>{}</c>, as a manual invoke sends).</summary>
internal static class ScheduledEventReader
{
    private static readonly ScheduledEvent Empty = new();

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
