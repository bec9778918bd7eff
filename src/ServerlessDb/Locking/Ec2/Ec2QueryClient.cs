using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Identity;
using Amazon.Runtime.Signing;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// <see cref="IEc2Client"/> over the EC2 Query API (version 2016-11-15) with HttpClient: form-encoded
/// POSTs serialized as botocore serializes them, signed with AWSSDK.Core's SigV4 signer. Stands in
/// for AWSSDK.EC2, which this feed does not serve; it makes one attempt per call and never retries.
/// </summary>
internal sealed class Ec2QueryClient : IEc2Client
{
    public const string ContentType = "application/x-www-form-urlencoded; charset=utf-8";
    private const string ServiceName = "ec2";

    private readonly HttpClient _httpClient;
    private readonly Uri _endpoint;
    private readonly RegionEndpoint _region;
    private readonly IIdentityResolver<AWSCredentials> _credentials;
    private readonly TimeProvider _timeProvider;

    /// <param name="httpClient">sends the requests; its Timeout bounds one attempt.</param>
    /// <param name="endpoint">the EC2 endpoint, for example <c>https://ec2.us-east-1.amazonaws.com/</c>.</param>
    /// <param name="region">the signing region.</param>
    /// <param name="credentials">resolved for every request, so rotated credentials are picked up.</param>
    /// <param name="timeProvider">the signing clock.</param>
    public Ec2QueryClient(
        HttpClient httpClient,
        Uri endpoint,
        string region,
        IIdentityResolver<AWSCredentials> credentials,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _httpClient = httpClient;
        _endpoint = endpoint;
        _region = RegionEndpoint.GetBySystemName(region);
        _credentials = credentials;
        _timeProvider = timeProvider;
    }

    public Uri Endpoint => _endpoint;

    public async Task<string> CreateSecurityGroupAsync(
        string groupName,
        string vpcId,
        string description,
        IReadOnlyDictionary<string, string> tags,
        CancellationToken cancellationToken)
    {
        // Parameter order follows the CreateSecurityGroupRequest shape; the Query API calls Description "GroupDescription".
        var form = new Ec2QueryForm("CreateSecurityGroup")
            .Add("GroupDescription", description)
            .Add("GroupName", groupName)
            .Add("VpcId", vpcId)
            .AddTagSpecification("security-group", tags);
        var response = await SendAsync(form, cancellationToken);
        return Required(response, form.Action, "groupId");
    }

    public async Task DeleteSecurityGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var form = new Ec2QueryForm("DeleteSecurityGroup").Add("GroupId", groupId);
        await SendAsync(form, cancellationToken);
    }

    public async Task<IReadOnlyList<SecurityGroupInfo>> DescribeSecurityGroupsAsync(
        IReadOnlyList<Ec2Filter> filters,
        CancellationToken cancellationToken)
    {
        var groups = new List<SecurityGroupInfo>();
        string? nextToken = null;
        do
        {
            var form = new Ec2QueryForm("DescribeSecurityGroups").AddFilters(filters);
            if (nextToken is not null)
            {
                form.Add("NextToken", nextToken);
            }

            var response = await SendAsync(form, cancellationToken);
            foreach (var item in Child(response, "securityGroupInfo")?.Elements().Where(e => e.Name.LocalName == "item") ?? [])
            {
                groups.Add(ReadSecurityGroup(item, form.Action));
            }

            var previous = nextToken;
            nextToken = Text(response, "nextToken");
            if (nextToken is not null && nextToken == previous)
            {
                throw new Ec2Exception(form.Action, "PaginationLoop", $"EC2 returned the same nextToken twice ('{nextToken}').");
            }
        }
        while (nextToken is not null);

        return groups;
    }

    private async Task<HttpRequestMessage> CreateRequestAsync(Ec2QueryForm form, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(form.Encode());
        var signingRequest = new AWSSigningRequest
        {
            HttpMethod = HttpMethod.Post,
            RequestUri = _endpoint,
            Content = body,
        };
        signingRequest.Headers["Content-Type"] = ContentType;

        var credentials = await _credentials.ResolveIdentityAsync(null, cancellationToken);
        var signed = await AWSSigV4Signer.SignAsync(
            signingRequest,
            new AWSSigV4Parameters
            {
                Credentials = credentials,
                Region = _region,
                Service = ServiceName,
                SignPayload = true,
                SignedAt = _timeProvider.GetUtcNow().UtcDateTime,
            },
            cancellationToken);

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
        foreach (var (name, value) in signed.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private async Task<XElement> SendAsync(Ec2QueryForm form, CancellationToken cancellationToken)
    {
        using var request = await CreateRequestAsync(form, cancellationToken);
        using var response = await WithoutAnswerAsTransient(form.Action, () => _httpClient.SendAsync(request, cancellationToken), cancellationToken);
        var body = await WithoutAnswerAsTransient(form.Action, () => response.Content.ReadAsStringAsync(cancellationToken), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Ec2ErrorCodes.FromErrorResponse(form.Action, response.StatusCode, body);
        }

        try
        {
            return XDocument.Parse(body).Root
                ?? throw new Ec2Exception(form.Action, "MalformedResponse", "empty XML document", response.StatusCode);
        }
        catch (XmlException e)
        {
            throw new Ec2Exception(form.Action, "MalformedResponse", $"the answer is not XML: {e.Message}", response.StatusCode, innerException: e);
        }
    }

    private static async Task<T> WithoutAnswerAsTransient<T>(string action, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException e)
        {
            throw Ec2ErrorCodes.FromTransportFailure(action, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout: the attempt timed out; the caller did not cancel.
            throw Ec2ErrorCodes.FromTransportFailure(action, e);
        }
    }

    private static SecurityGroupInfo ReadSecurityGroup(XElement item, string action)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in Child(item, "tagSet")?.Elements().Where(e => e.Name.LocalName == "item") ?? [])
        {
            if (Text(tag, "key") is { } key)
            {
                tags[key] = Text(tag, "value") ?? string.Empty;
            }
        }

        return new SecurityGroupInfo(
            Required(item, action, "groupId"),
            Text(item, "groupName") ?? string.Empty,
            tags);
    }

    // Elements are matched by local name and only among direct children: botocore's parser ignores
    // the namespace too (moto answers xmlns "http://ec2.amazonaws.com/doc/2016-11-15", without the
    // trailing slash EC2 sends), and a group's ipPermissions hold nested <item>s of their own.
    private static XElement? Child(XElement parent, string localName) =>
        parent.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    private static string? Text(XElement parent, string localName) =>
        Child(parent, localName) is { } element && element.Value.Length > 0 ? element.Value : null;

    private static string Required(XElement parent, string action, string localName) =>
        Text(parent, localName)
        ?? throw new Ec2Exception(action, "MalformedResponse", $"the answer has no <{localName}>: {Truncate(parent.ToString())}");

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "..." : text;
}
