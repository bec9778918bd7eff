namespace ServerlessDb.Locking.Ec2;

/// <summary>What <see cref="Ec2ClientFactory"/> builds the EC2 client from.</summary>
/// <param name="Region">signs the requests, and picks the endpoint unless one is given.</param>
/// <param name="Endpoint">an endpoint override (moto_server); null for the regional endpoint.</param>
public sealed record Ec2ClientOptions(string Region, Uri? Endpoint);
