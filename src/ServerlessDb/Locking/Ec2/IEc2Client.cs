namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// The few EC2 calls the security-group lock and its reaper make. Every failure EC2 reports, and
/// every transport failure, surfaces as an <see cref="Ec2Exception"/> whose
/// <see cref="Ec2Exception.Kind"/> says what happened; nothing is retried here (the caller owns
/// retries and deadlines).
/// </summary>
internal interface IEc2Client
{
    /// <summary>
    /// Creates a security group named <paramref name="groupName"/> in <paramref name="vpcId"/>, tagged
    /// (at creation, atomically) with <paramref name="tags"/>, and returns its id.
    /// </summary>
    /// <exception cref="Ec2Exception">
    /// <see cref="Ec2ErrorKind.GroupDuplicate"/> when a group of that name already exists in the VPC.
    /// </exception>
    Task<string> CreateSecurityGroupAsync(
        string groupName,
        string vpcId,
        string description,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken);

    /// <summary>Deletes the security group <paramref name="groupId"/>.</summary>
    /// <exception cref="Ec2Exception">
    /// <see cref="Ec2ErrorKind.GroupNotFound"/> when no such group exists (any more);
    /// <see cref="Ec2ErrorKind.DependencyViolation"/> when something still references it.
    /// </exception>
    Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists the security groups matching all <paramref name="filters"/> (EC2 filter semantics:
    /// filters are ANDed, the values of one filter ORed, <c>*</c> and <c>?</c> are wildcards),
    /// following pagination to the last page.
    /// </summary>
    /// <exception cref="Ec2Exception">on any failure, including on a later page.</exception>
    Task<IReadOnlyList<SecurityGroupInfo>> DescribeSecurityGroupsAsync(
        IReadOnlyList<Ec2Filter> filters,
        CancellationToken cancellationToken);
}

/// <summary>The parts of a described security group that the lock and the reaper use.</summary>
internal sealed record SecurityGroupInfo(
    string GroupId,
    string GroupName,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>An EC2 Describe filter: <paramref name="Name"/> (for example <c>group-name</c>, <c>vpc-id</c>, <c>tag:Holder</c>) matches any of <paramref name="Values"/>.</summary>
internal sealed record Ec2Filter(string Name, IReadOnlyList<string> Values)
{
    public Ec2Filter(string name, params string[] values)
        : this(name, (IReadOnlyList<string>)values)
    {
    }
}
