namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>A security group as the aws CLI describes it.</summary>
public sealed record DescribedGroup(string Id, string Name, IReadOnlyDictionary<string, string> Tags);
