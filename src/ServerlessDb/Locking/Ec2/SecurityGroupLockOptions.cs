namespace ServerlessDb.Locking.Ec2;

/// <summary>What <see cref="SecurityGroupDatabaseLock"/> is configured with.</summary>
/// <param name="VpcId">the VPC in which the lock groups are created.</param>
/// <param name="NamePrefix">a database's lock group is named <c>{NamePrefix}{NAME}</c>.</param>
/// <param name="Wait">how long a writer waits for the lock before it is refused.</param>
public sealed record SecurityGroupLockOptions(string VpcId, string NamePrefix, TimeSpan Wait);
