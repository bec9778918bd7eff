using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// Creates and lists security groups in moto with the aws CLI, independently of this project's EC2
/// client: what a crashed writer left behind, and what the lock tests observe.
/// </summary>
public sealed class SecurityGroupsCli(MotoServerFixture moto)
{
    /// <summary>Creates <paramref name="groupName"/> in <paramref name="vpcId"/>, tagged at creation as a writer tags its lock group; returns its id.</summary>
    public async Task<string> CreateAsync(string vpcId, string groupName, IReadOnlyDictionary<string, string> tags)
    {
        var tagList = new JsonArray(tags.Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }).ToArray());
        var specification = new JsonArray(new JsonObject { ["ResourceType"] = "security-group", ["Tags"] = tagList });
        var output = await moto.RunAwsCliAsync(
        [
            "ec2", "create-security-group", "--vpc-id", vpcId, "--group-name", groupName, "--description", "created by a test",
            "--tag-specifications", specification.ToJsonString(), "--query", "GroupId", "--output", "text",
        ]);
        return output.Trim();
    }

    /// <summary>The groups of <paramref name="vpcId"/> (all of them, or those whose name starts with <paramref name="namePrefix"/>), by name.</summary>
    public async Task<IReadOnlyList<DescribedGroup>> DescribeAsync(string vpcId, string? namePrefix = null)
    {
        var output = await moto.RunAwsCliAsync(
        [
            "ec2", "describe-security-groups", "--filters", $"Name=vpc-id,Values={vpcId}",
            "--query", "SecurityGroups[].{id: GroupId, name: GroupName, tags: Tags}", "--output", "json",
        ]);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.EnumerateArray()
            .Select(g => new DescribedGroup(
                g.GetProperty("id").GetString()!,
                g.GetProperty("name").GetString()!,
                g.GetProperty("tags").ValueKind == JsonValueKind.Array
                    ? g.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("Key").GetString()!, t => t.GetProperty("Value").GetString()!)
                    : []))
            .Where(g => namePrefix is null || g.Name.StartsWith(namePrefix, StringComparison.Ordinal))
            .OrderBy(g => g.Name, StringComparer.Ordinal)
            .ToList();
    }
}
