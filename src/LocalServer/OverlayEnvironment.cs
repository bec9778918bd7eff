using ServerlessDb.Configuration;

namespace LocalServer;

/// <summary>The environment with some variables set from the command line, which win.</summary>
internal sealed class OverlayEnvironment(IEnvironment environment, IReadOnlyDictionary<string, string> overrides) : IEnvironment
{
    public string? Get(string name) => overrides.TryGetValue(name, out var value) ? value : environment.Get(name);
}
