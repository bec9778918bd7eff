namespace ServerlessDb.Configuration;

/// <summary>Reads environment variables; a seam so tests need not touch the process environment.</summary>
public interface IEnvironment
{
    string? Get(string name);
}

/// <summary>The real process environment; empty values count as unset.</summary>
public sealed class ProcessEnvironment : IEnvironment
{
    public static ProcessEnvironment Instance { get; } = new();

    public string? Get(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}

/// <summary>An environment made of a dictionary: for tests and for hosts that build their own.</summary>
internal sealed class DictionaryEnvironment(IReadOnlyDictionary<string, string?> values) : IEnvironment
{
    public string? Get(string name) =>
        values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
