using Cli;
using Cli.Api;

namespace ServerlessDb.Cli.Tests.Units;

/// <summary>What .at, --at and restore take: a time is read as as_of, anything else as a version id.</summary>
public sealed class PointInTimeTests
{
    [Theory]
    [InlineData("2026-12-02T10:15:00Z", "as_of", "2026-12-02T10:15:00Z")]
    [InlineData("2026-12-02T11:15:00.5+01:00", "as_of", "2026-12-02T10:15:00.5Z")]
    [InlineData("2026-12-02", "as_of", "2026-12-02T00:00:00Z")]
    [InlineData("2-66582e39d5a4", "version", "2-66582e39d5a4")]
    [InlineData("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", "version", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")]
    public void A_time_becomes_as_of_in_utc_and_anything_else_a_version(string text, string parameter, string value)
    {
        var point = PointInTime.Parse(text);

        Assert.Equal(parameter, point.Parameter);
        Assert.Equal(value, point.Value);
    }

    [Fact]
    public void Nothing_is_a_usage_error()
    {
        var error = Assert.Throws<CliException>(() => PointInTime.Parse("  "));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }
}
