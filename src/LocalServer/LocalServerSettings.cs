using ServerlessDb.Configuration;

namespace LocalServer;

/// <summary>Where the local server listens and where its databases live; the command line's options.</summary>
internal sealed record LocalServerSettings
{
    public const string DefaultHost = "127.0.0.1";
    public const int DefaultPort = 4001;
    public const string DefaultDataDirectory = "./data";

    /// <summary>An IP address, or <c>localhost</c> for the loopback address; the server binds only to it.</summary>
    public string Host { get; init; } = DefaultHost;

    /// <summary>The TCP port; 0 lets the system pick a free one (the printed URL says which).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The folder holding one <c>NAME.sqlite</c> per database, unless storage is S3.</summary>
    public string DataDirectory { get; init; } = DefaultDataDirectory;

    /// <summary>An S3 endpoint (moto_server, a local S3): storage is that S3 instead of the folder. Overrides AWS_ENDPOINT_URL.</summary>
    public Uri? S3Endpoint { get; init; }

    /// <summary>The bucket, with S3 storage. Overrides DB_BUCKET.</summary>
    public string? Bucket { get; init; }

    /// <summary>The environment with the variables these settings stand for set from them, which win.</summary>
    /// <param name="cacheDirectory">the server's own cache folder (CACHE_DIR), when the environment names none.</param>
    public IEnvironment Over(IEnvironment environment, string? cacheDirectory)
    {
        var overrides = new Dictionary<string, string>();
        if (S3Endpoint is { } endpoint)
        {
            overrides["AWS_ENDPOINT_URL"] = endpoint.ToString();
        }

        if (Bucket is { } bucket)
        {
            overrides["DB_BUCKET"] = bucket;
        }

        if (cacheDirectory is not null)
        {
            overrides["CACHE_DIR"] = cacheDirectory;
        }

        return new OverlayEnvironment(environment, overrides);
    }

    private sealed class OverlayEnvironment(IEnvironment environment, IReadOnlyDictionary<string, string> overrides) : IEnvironment
    {
        public string? Get(string name) => overrides.TryGetValue(name, out var value) ? value : environment.Get(name);
    }
}
