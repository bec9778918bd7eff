namespace ServerlessDb.UnitTests.Storage;

/// <summary>One request as <see cref="ScriptedHttpServer"/> received it.</summary>
internal sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
