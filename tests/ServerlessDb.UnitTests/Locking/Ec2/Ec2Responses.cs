using System.Security;

namespace ServerlessDb.UnitTests.Locking.Ec2;

/// <summary>EC2 answers as the API reference shows them.</summary>
internal static class Ec2Responses
{
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    public static string CreateSecurityGroup(string groupId) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <CreateSecurityGroupResponse xmlns="{Namespace}">
          <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
          <return>true</return>
          <groupId>{groupId}</groupId>
        </CreateSecurityGroupResponse>
        """;

    public static string DeleteSecurityGroup() => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <DeleteSecurityGroupResponse xmlns="{Namespace}">
          <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
          <return>true</return>
        </DeleteSecurityGroupResponse>
        """;

    /// <summary>A page of groups; each group also has an ingress rule whose nested items must not be read as groups or tags.</summary>
    public static string DescribeSecurityGroups(string? nextToken, params (string Id, string Name, string Vpc, (string Key, string Value)[] Tags)[] groups)
    {
        var items = string.Concat(groups.Select(g => $"""
              <item>
                <ownerId>123456789012</ownerId>
                <groupId>{g.Id}</groupId>
                <groupName>{SecurityElement.Escape(g.Name)}</groupName>
                <groupDescription>lock</groupDescription>
                <vpcId>{g.Vpc}</vpcId>
                <ipPermissions>
                  <item>
                    <ipProtocol>tcp</ipProtocol>
                    <fromPort>22</fromPort>
                    <toPort>22</toPort>
                    <groups>
                      <item><userId>123456789012</userId><groupId>sg-referenced</groupId><groupName>other</groupName></item>
                    </groups>
                    <ipRanges><item><cidrIp>10.0.0.0/16</cidrIp></item></ipRanges>
                  </item>
                </ipPermissions>
                <ipPermissionsEgress/>
                <tagSet>{string.Concat(g.Tags.Select(t => $"<item><key>{SecurityElement.Escape(t.Key)}</key><value>{SecurityElement.Escape(t.Value)}</value></item>"))}</tagSet>
              </item>
            """));
        var token = nextToken is null ? string.Empty : $"<nextToken>{nextToken}</nextToken>";
        return $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <DescribeSecurityGroupsResponse xmlns="{Namespace}">
              <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
              <securityGroupInfo>{items}</securityGroupInfo>
              {token}
            </DescribeSecurityGroupsResponse>
            """;
    }

    public static string Error(string code, string message, string requestId = "ea966190-f9aa-478e-9ede-example") => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Errors><Error><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message></Error></Errors><RequestID>{requestId}</RequestID></Response>
        """;
}
