namespace ServerlessDb.Configuration;

/// <summary>Reads environment variables; a seam so tests need not touch the process environment.</summary>
public interface IEnvironment
{
    string? Get(string name);
}
