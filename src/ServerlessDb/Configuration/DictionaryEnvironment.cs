namespace ServerlessDb.Configuration;

/// <summary>An environment made of a dictionary: for tests and for hosts that build their own.</summary>
public sealed class DictionaryEnvironment(IReadOnlyDictionary<string, string?> values) : IEnvironment
{
    public string? Get(string name) =>
        values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
