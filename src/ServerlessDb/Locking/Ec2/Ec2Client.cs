using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using ServerlessDb.Resilience;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// <see cref="IEc2Client"/> over AWSSDK.EC2, and the one place where the SDK's errors become
/// <see cref="Ec2Exception"/>s. One attempt per call: <see cref="Ec2ClientFactory"/> turns the SDK's
/// retries off, so the lock and the reaper decide what is retried and for how long.
/// </summary>
internal sealed class Ec2Client : IEc2Client
{
    public const string GroupDuplicateCode = "InvalidGroup.Duplicate";
    public const string GroupNotFoundCode = "InvalidGroup.NotFound";
    public const string DependencyViolationCode = "DependencyViolation";

    // The SDK's own reading of throttling (RequestLimitExceeded and the other codes its retries treat as
    // throttling, and HTTP 429) and of service timeouts, so ours cannot drift from it.
    private static readonly StandardRetryPolicy SdkRetryPolicy = new(new AmazonEC2Config());

    private readonly Lazy<IAmazonEC2> _ec2;

    /// <param name="create">
    /// builds the SDK client on the first call, not when the container starts: AmazonEC2Client loads the
    /// largest assembly of the package and resolves credentials as it is built, which a container that only
    /// reads never needs.
    /// </param>
    public Ec2Client(Func<IAmazonEC2> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        _ec2 = new Lazy<IAmazonEC2>(create, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public async Task<string> CreateSecurityGroupAsync(
        string groupName,
        string vpcId,
        string description,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        const string action = "CreateSecurityGroup";
        var request = new CreateSecurityGroupRequest
        {
            GroupName = groupName,
            VpcId = vpcId,
            Description = description,
        };
        if (tags.Count > 0)
        {
            // EC2 refuses a tag specification without tags.
            request.TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.SecurityGroup, Tags = tags.Select(tag => new Tag(tag.Key, tag.Value)).ToList() },
            ];
        }

        var response = await CallAsync(action, token => _ec2.Value.CreateSecurityGroupAsync(request, token), cancellationToken);
        return response.GroupId is { Length: > 0 } groupId
            ? groupId
            : throw new Ec2Exception(action, "MalformedResponse", "the answer names no group id", Ec2ErrorKind.Other, response.HttpStatusCode);
    }

    public async Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken) =>
        await CallAsync(
            "DeleteSecurityGroup",
            token => _ec2.Value.DeleteSecurityGroupAsync(new DeleteSecurityGroupRequest { GroupId = groupId }, token),
            cancellationToken);

    public async Task<IReadOnlyList<SecurityGroupInfo>> DescribeSecurityGroupsAsync(
        IReadOnlyList<Ec2Filter> filters,
        CancellationToken cancellationToken)
    {
        const string action = "DescribeSecurityGroups";
        var groups = new List<SecurityGroupInfo>();
        string? nextToken = null;
        do
        {
            var request = new DescribeSecurityGroupsRequest
            {
                Filters = filters.Select(f => new Filter(f.Name, f.Values.ToList())).ToList(),
                NextToken = nextToken,
            };
            var response = await CallAsync(action, token => _ec2.Value.DescribeSecurityGroupsAsync(request, token), cancellationToken);
            foreach (var group in response.SecurityGroups ?? [])
            {
                groups.Add(new SecurityGroupInfo(
                    group.GroupId,
                    group.GroupName ?? string.Empty,
                    (group.Tags ?? []).Where(t => t.Key is not null).ToDictionary(t => t.Key, t => t.Value ?? string.Empty, StringComparer.Ordinal)));
            }

            var previous = nextToken;
            nextToken = string.IsNullOrEmpty(response.NextToken) ? null : response.NextToken;
            if (nextToken is not null && nextToken == previous)
            {
                throw new Ec2Exception(action, "PaginationLoop", $"EC2 returned the same nextToken twice ('{nextToken}').", Ec2ErrorKind.Other);
            }
        }
        while (nextToken is not null);

        return groups;
    }

    /// <summary>
    /// What <paramref name="exception"/>, thrown by the SDK during <paramref name="action"/>, means to the lock;
    /// null when it is not an EC2 failure: the caller's own cancellation, or a bug, which pass through as they are.
    /// </summary>
    internal static Ec2Exception? Classify(string action, Exception exception, CancellationToken callerToken) => exception switch
    {
        OperationCanceledException when callerToken.IsCancellationRequested => null,

        // The SDK's attempt timeout, or the connection broke: the call may or may not have been carried out.
        OperationCanceledException => NoAnswer(action, exception),
        AmazonServiceException service when service.StatusCode == 0 || NetworkFailures.HasNetworkCause(service.InnerException) =>
            NoAnswer(action, exception),
        AmazonServiceException service => new Ec2Exception(
            action,
            service.ErrorCode is { Length: > 0 } code ? code : $"Http{(int)service.StatusCode}",
            service.Message,
            KindOf(service),
            service.StatusCode,
            service.RequestId,
            service),
        _ when NetworkFailures.HasNetworkCause(exception) => NoAnswer(action, exception),
        _ => null,
    };

    private static Ec2ErrorKind KindOf(AmazonServiceException service) => service.ErrorCode switch
    {
        GroupDuplicateCode => Ec2ErrorKind.GroupDuplicate,
        GroupNotFoundCode => Ec2ErrorKind.GroupNotFound,
        DependencyViolationCode => Ec2ErrorKind.DependencyViolation,
        _ when SdkRetryPolicy.IsThrottlingError(service) => Ec2ErrorKind.Throttling,
        _ when (int)service.StatusCode >= 500 || SdkRetryPolicy.IsServiceTimeoutError(service) => Ec2ErrorKind.Transient,
        _ => Ec2ErrorKind.Other,
    };

    private static Ec2Exception NoAnswer(string action, Exception exception) =>
        new(action, Ec2Exception.TransportErrorCode, exception.Message, Ec2ErrorKind.Transient, statusCode: null, requestId: null, exception);

    private static async Task<T> CallAsync<T>(string action, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (Exception e) when (Classify(action, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }
}
