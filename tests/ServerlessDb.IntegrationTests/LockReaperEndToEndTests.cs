using System.Text.Json;
using ServerlessDb.Configuration;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.IntegrationTests;

/// <summary>The LockReaper handler end to end: the EventBridge sample scheduled event in, EC2 on moto_server.</summary>
[Collection(MotoCollection.Name)]
public sealed class LockReaperEndToEndTests(MotoServerFixture moto)
{
    private const string Prefix = ServerlessDbOptions.DefaultLockNamePrefix;

    private readonly SecurityGroupsCli _groups = new(moto);

    private static IReadOnlyDictionary<string, string> WrittenAt(DateTimeOffset createdAt, string holder) =>
        LockGroupNaming.Tags(createdAt, holder);

    [Fact]
    public async Task A_crashed_writers_stale_group_is_deleted_while_fresh_and_unreadable_ones_are_kept()
    {
        var vpcId = await moto.CreateVpcAsync();
        var otherVpcId = await moto.CreateVpcAsync();
        var now = DateTimeOffset.UtcNow;
        var longAgo = now.AddSeconds(-2000);
        await _groups.CreateAsync(vpcId, Prefix + "orders", WrittenAt(longAgo, "crashed-request"));
        await _groups.CreateAsync(vpcId, Prefix + "inventory", WrittenAt(now, "live-request"));
        await _groups.CreateAsync(vpcId, Prefix + "garbled", new Dictionary<string, string> { ["CreateTime"] = "yesterday" });
        await _groups.CreateAsync(vpcId, "web-servers", WrittenAt(longAgo, "not-a-lock"));
        await _groups.CreateAsync(otherVpcId, Prefix + "orders", WrittenAt(longAgo, "another-deployment"));
        var reaper = new LockReaperInstance(moto, vpcId);

        var summary = await reaper.InvokeAsync();

        Assert.Equal(
            """{"found":3,"deleted":1,"alreadyGone":0,"kept":2,"failed":0,"deletedGroups":["serverlessdb-lock-orders"],"alreadyGoneGroups":[],"keptGroups":["serverlessdb-lock-garbled","serverlessdb-lock-inventory"],"failedGroups":[]}""",
            summary.GetRawText());
        Assert.Equal(
            ["default", Prefix + "garbled", Prefix + "inventory", "web-servers"],
            (await _groups.DescribeAsync(vpcId)).Select(g => g.Name));
        Assert.Equal(Prefix + "orders", Assert.Single(await _groups.DescribeAsync(otherVpcId, Prefix)).Name);
        var warning = JsonDocument.Parse(Assert.Single(reaper.LogLines, l => l.Contains("readable CreateTime", StringComparison.Ordinal))).RootElement;
        Assert.Equal(Prefix + "garbled", warning.GetProperty("group").GetString());

        var again = await reaper.InvokeAsync();

        Assert.Equal((2, 0), (again.GetProperty("found").GetInt32(), again.GetProperty("deleted").GetInt32()));
    }
}
