namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>What a <see cref="FaultRule"/> matches on: the request line, and the EC2 Action when the body is an EC2 Query API form.</summary>
public sealed record ProxiedRequest(string Method, string Path, string Query, string? Ec2Action);
