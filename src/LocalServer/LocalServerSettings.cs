namespace LocalServer;

/// <summary>Where the local server listens and where its databases live; the command line's options.</summary>
public sealed record LocalServerSettings
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
}
