namespace ServerlessDb.Api;

/// <summary>The part of the configuration the API uses.</summary>
public sealed record ApiOptions(TimeSpan RequestTimeout, int MaxRequestBytes, int MaxResultBytes, int MaxStatements);
