namespace ServerlessDb.Locking.Ec2;

/// <summary>An EC2 Describe filter: <paramref name="Name"/> (for example <c>group-name</c>, <c>vpc-id</c>, <c>tag:Holder</c>) matches any of <paramref name="Values"/>.</summary>
public sealed record Ec2Filter(string Name, IReadOnlyList<string> Values)
{
    public Ec2Filter(string name, params string[] values)
        : this(name, (IReadOnlyList<string>)values)
    {
    }
}
