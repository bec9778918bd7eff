namespace ServerlessDb.Locking.Ec2;

/// <summary>The parts of a described security group that the lock and the reaper use.</summary>
public sealed record SecurityGroupInfo(
    string GroupId,
    string GroupName,
    string? VpcId,
    IReadOnlyDictionary<string, string> Tags);
