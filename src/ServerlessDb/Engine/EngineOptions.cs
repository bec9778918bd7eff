namespace ServerlessDb.Engine;

/// <summary>The part of the configuration the engine uses.</summary>
/// <param name="IdempotencyRetention">How long the answer of a write sent with an Idempotency-Key is kept for its retries.</param>
public sealed record EngineOptions(int WriteAttempts, int MaxResultBytes, bool QuickCheckBeforeUpload, TimeSpan IdempotencyRetention);
