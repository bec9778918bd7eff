namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// What a <see cref="FaultRule"/> matches on: the request line, the EC2 Action when the body is an EC2 Query API form,
/// and the <c>Range</c> header when there is one (a ranged GET, such as a lazy read's fetch).
/// </summary>
public sealed record ProxiedRequest(string Method, string Path, string Query, string? Ec2Action, string? Range = null);
