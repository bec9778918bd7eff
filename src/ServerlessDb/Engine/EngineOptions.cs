using ServerlessDb.Configuration;

namespace ServerlessDb.Engine;

/// <summary>The part of the configuration the engine uses.</summary>
public sealed record EngineOptions(int WriteAttempts, int MaxResultBytes, bool QuickCheckBeforeUpload)
{
    public static EngineOptions From(ServerlessDbOptions options) =>
        new(options.WriteAttempts, options.MaxResultBytes, options.QuickCheckBeforeUpload);
}
