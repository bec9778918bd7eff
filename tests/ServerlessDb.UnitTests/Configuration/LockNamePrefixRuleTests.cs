using ServerlessDb.Configuration;

namespace ServerlessDb.UnitTests.Configuration;

/// <summary>The QueryRunner and the LockReaper accept exactly the same LOCK_NAME_PREFIX values, with the same message.</summary>
public sealed class LockNamePrefixRuleTests
{
    public static TheoryData<string> Readers() => ["QueryRunner", "LockReaper"];

    private static void Read(string reader, string prefix)
    {
        var values = new Dictionary<string, string?> { ["LOCK_NAME_PREFIX"] = prefix };
        var environment = new DictionaryEnvironment(values);
        if (reader == "QueryRunner")
        {
            values["DB_BUCKET"] = "my-databases";
            ServerlessDbOptions.FromEnvironment(environment);
        }
        else
        {
            values["LOCK_VPC_ID"] = "vpc-1a2b3c4d";
            values["QUERY_RUNNER_TIMEOUT_SECONDS"] = "30";
            values["AWS_REGION"] = "eu-west-1";
            ReaperOptions.FromEnvironment(environment);
        }
    }

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_prefix_of_190_characters_is_accepted(string reader) => Read(reader, new string('a', 189) + "-");

    [Theory]
    [MemberData(nameof(Readers))]
    public void Every_allowed_punctuation_mark_is_accepted(string reader) => Read(reader, "Team_A.lock-:/()#,@[]+=&;{}!$*");

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_prefix_of_191_characters_is_refused(string reader) => AssertRefused(reader, new string('a', 191));

    [Theory]
    [MemberData(nameof(Readers))]
    public void A_prefix_with_a_space_is_refused(string reader) => AssertRefused(reader, "team a-");

    private static void AssertRefused(string reader, string prefix)
    {
        var error = Assert.Throws<OptionsException>(() => Read(reader, prefix));

        Assert.Equal(
            $"LOCK_NAME_PREFIX must be 1-190 characters of letters, digits, and ._-:/()#,@[]+=&;{{}}!$*; got '{prefix}'.",
            Assert.Single(error.Problems));
    }
}
