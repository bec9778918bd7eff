using ServerlessDb.Domain;

namespace ServerlessDb.Engine;

/// <summary>
/// A write the client may retry: <paramref name="Key"/> (the Idempotency-Key header) makes it apply
/// at most once within the retention window. <paramref name="RenderAnswer"/> turns the results into the
/// exact response body, which is recorded in the same commit as the write and given again to a retry.
/// </summary>
public sealed record IdempotentWrite(string Key, Func<IReadOnlyList<StatementResult>, string> RenderAnswer)
{
    /// <summary>The longest key accepted, in characters.</summary>
    public const int MaxKeyLength = 128;
}
