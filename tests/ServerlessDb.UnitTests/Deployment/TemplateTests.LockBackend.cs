using System.Text.Json.Nodes;

namespace ServerlessDb.UnitTests.Deployment;

/// <summary>The template's choice of lock: each backend's permissions granted only when it is chosen, and the lease folder kept small.</summary>
public sealed partial class TemplateTests
{
    [Fact]
    public void LockBackend_is_ec2_by_default_and_both_functions_are_told_it_and_the_same_stale_threshold()
    {
        var parameter = Template["Parameters"]!["LockBackend"]!;
        Assert.Equal("ec2", (string?)parameter["Default"]);
        Assert.Equal(["ec2", "s3"], parameter["AllowedValues"]!.AsArray().Select(v => (string)v!));
        foreach (var function in new[] { "QueryRunner", "LockReaper" })
        {
            Assert.Equal("LockBackend", (string?)Variables(function)["LOCK_BACKEND"]?["Ref"]);
            Assert.Equal("LockStaleSeconds", (string?)Variables(function)["LOCK_STALE_SECONDS"]?["Ref"]);
        }

        Assert.Equal("DatabaseBucket", (string?)Variables("LockReaper")["DB_BUCKET"]?["Ref"]);
        Assert.Equal("UseEc2Lock", (string?)Template["Globals"]!["Function"]!["Environment"]!["Variables"]!["LOCK_VPC_ID"]!["Fn::If"]![0]);
    }

    [Theory]
    [MemberData(nameof(FunctionNames))]
    public void Each_lock_backends_statements_are_granted_only_when_it_is_chosen(string function)
    {
        var unconditional = new List<string>();
        foreach (var statement in Statements(function))
        {
            var (condition, body) = statement["Fn::If"] is JsonArray choice ? ((string?)choice[0], choice[1]!) : (null, statement);
            var text = body.ToJsonString();
            var usesEc2 = text.Contains("\"ec2:", StringComparison.Ordinal);
            var usesLeases = text.Contains("_locks/", StringComparison.Ordinal);
            if ((usesEc2 && condition != "UseEc2Lock") || (usesLeases && condition != "UseS3Lock"))
            {
                unconditional.Add($"{(string?)body["Sid"]} ({condition ?? "always"})");
            }

            if (usesLeases)
            {
                Assert.DoesNotContain("s3:PutObject", text, StringComparison.Ordinal);
            }
        }

        Assert.Empty(unconditional);
        Assert.Contains(Statements(function), s => s["Fn::If"]?[0]?.GetValue<string>() == "UseS3Lock");
    }

    [Fact]
    public void The_lease_folder_keeps_old_lease_versions_a_day_and_drops_expired_delete_markers()
    {
        var rules = Template["Resources"]!["DatabaseBucket"]!["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray();

        var leases = Assert.Single(rules, r => r?["Prefix"]?.ToJsonString().Contains("_locks/", StringComparison.Ordinal) == true)!;

        Assert.Equal("Enabled", (string?)leases["Status"]);
        Assert.Equal(1, (int)leases["NoncurrentVersionExpiration"]!["NoncurrentDays"]!);
        Assert.True((bool)leases["ExpiredObjectDeleteMarker"]!);
    }

    private static IEnumerable<JsonObject> Statements(string function) =>
        FunctionProperties(function)["Policies"]!.AsArray()
            .SelectMany(policy => policy!["Statement"]!.AsArray())
            .Select(statement => statement!.AsObject());
}
