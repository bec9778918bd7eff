namespace ServerlessDb.Storage.S3;

/// <summary>What <see cref="S3ClientFactory"/> builds the S3 client from.</summary>
/// <param name="Region">signs the requests and picks the regional endpoint; null leaves both to the SDK.</param>
/// <param name="Endpoint">an endpoint override (moto_server, a local S3), addressed path-style; null for S3 itself.</param>
/// <param name="RetryDeadline">the store's retry budget for one call, which one attempt never outlives.</param>
public sealed record S3ClientOptions(string? Region, Uri? Endpoint, TimeSpan RetryDeadline);
