using ServerlessDb.IntegrationTests.Faults;
using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Locking.Ec2;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The lock's EC2 calls, through AWSSDK.EC2 as the lock and the reaper make them, against moto_server:
/// each does what the lock relies on, and EC2's answers become the kinds the lock decides on.
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class Ec2ClientMotoTests(MotoServerFixture moto)
{
    [Fact]
    public async Task Create_describe_duplicate_delete_and_not_found_do_what_the_lock_relies_on()
    {
        var vpc = await SharedVpc.GetAsync(moto);
        var name = $"ec2-client-check-{Guid.NewGuid():N}";
        var ec2 = Ec2ClientFactory.Create(new Ec2ClientOptions(MotoServerFixture.Region, moto.EndpointUrl));
        var tags = new Dictionary<string, string> { [LockGroupNaming.CreateTimeTagKey] = "1700000000", [LockGroupNaming.HolderTagKey] = "req-1" };

        var groupId = await ec2.CreateSecurityGroupAsync(name, vpc, "ServerlessDb write lock of database check", tags, CancellationToken.None);
        var described = await ec2.DescribeSecurityGroupsAsync([new Ec2Filter("group-name", name), new Ec2Filter("vpc-id", vpc)], CancellationToken.None);
        var duplicate = await Assert.ThrowsAsync<Ec2Exception>(() =>
            ec2.CreateSecurityGroupAsync(name, vpc, "another writer", new Dictionary<string, string> { [LockGroupNaming.HolderTagKey] = "req-2" }, CancellationToken.None));
        var byPrefix = await ec2.DescribeSecurityGroupsAsync([new Ec2Filter("group-name", "ec2-client-check-*"), new Ec2Filter("vpc-id", vpc)], CancellationToken.None);
        await ec2.DeleteSecurityGroupAsync(groupId, CancellationToken.None);
        var afterDelete = await ec2.DescribeSecurityGroupsAsync([new Ec2Filter("group-name", name), new Ec2Filter("vpc-id", vpc)], CancellationToken.None);
        var notFound = await Assert.ThrowsAsync<Ec2Exception>(() => ec2.DeleteSecurityGroupAsync(groupId, CancellationToken.None));

        Assert.StartsWith("sg-", groupId, StringComparison.Ordinal);
        var group = Assert.Single(described);
        Assert.Equal((groupId, name), (group.GroupId, group.GroupName));
        Assert.Equal(tags, group.Tags);
        Assert.Equal(Ec2ErrorKind.GroupDuplicate, duplicate.Kind);
        Assert.Contains(byPrefix, g => g.GroupId == groupId);
        Assert.Empty(afterDelete);
        Assert.Equal(Ec2ErrorKind.GroupNotFound, notFound.Kind);
    }
}
