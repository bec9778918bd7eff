using System.Text.Json.Nodes;

namespace ServerlessDb.UnitTests.Deployment;

/// <summary>The LockReaper's chunk collector in template.yaml: told the bucket whatever the lock backend, and allowed what it calls, no more.</summary>
public sealed partial class TemplateTests
{
    [Fact]
    public void The_LockReaper_always_gets_the_bucket_and_prefix_the_chunk_collector_needs()
    {
        var variables = Variables("LockReaper");

        Assert.Equal("DatabaseBucket", (string?)variables["DB_BUCKET"]?["Ref"]);
        Assert.NotNull(variables["DB_PREFIX"]);
        Assert.Null(variables["CHUNK_GC"]);
    }

    [Fact]
    public void The_chunk_collector_may_delete_only_in_the_chunk_folders_and_list_only_inside_the_prefix()
    {
        // Unconditional: the collector runs with either lock backend.
        var statements = Statements("LockReaper").Where(s => ((string?)s["Sid"])?.StartsWith("CollectChunks", StringComparison.Ordinal) == true).ToList();
        string[] Actions(JsonObject s) => s["Action"] is JsonArray many ? [.. many.Select(a => (string)a!)] : [(string)s["Action"]!];
        JsonObject Granting(string action) => Assert.Single(statements, s => Actions(s).Contains(action));

        Assert.Equal(
            ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetBucketVersioning", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"],
            statements.SelectMany(Actions).Order(StringComparer.Ordinal));
        Assert.Equal("${DatabaseBucket.Arn}/${Prefix}_chunks/*", (string?)Granting("s3:DeleteObjectVersion")["Resource"]!["Fn::Sub"]![0]);
        Assert.Equal("${DatabaseBucket.Arn}/${Prefix}*", (string?)Granting("s3:GetObjectVersion")["Resource"]!["Fn::Sub"]![0]);
        Assert.Equal("${Prefix}_chunks/*", (string?)Granting("s3:ListBucket")["Condition"]!["StringLike"]!["s3:prefix"]!["Fn::Sub"]![0]);
        Assert.Equal("${Prefix}*", (string?)Granting("s3:ListBucketVersions")["Condition"]!["StringLike"]!["s3:prefix"]!["Fn::Sub"]![0]);
        Assert.Equal("DatabaseBucket", (string?)Granting("s3:GetBucketVersioning")["Resource"]!["Fn::GetAtt"]![0]);
    }

    [Fact]
    public void The_bucket_is_versioned_as_the_chunk_collector_requires() =>
        Assert.Equal("Enabled", (string?)Template["Resources"]!["DatabaseBucket"]!["Properties"]!["VersioningConfiguration"]!["Status"]);
}
