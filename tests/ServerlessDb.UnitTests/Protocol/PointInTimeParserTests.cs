using ServerlessDb.Domain;
using ServerlessDb.Errors;
using ServerlessDb.Protocol;

namespace ServerlessDb.UnitTests.Protocol;

public sealed class PointInTimeParserTests
{
    private static PointInTime? Parse(params (string Key, string Value)[] query) =>
        PointInTimeParser.Parse(query.ToDictionary(q => q.Key, q => q.Value));

    [Fact]
    public void Without_either_flag_there_is_no_point_in_time() => Assert.Null(Parse(("db", "shop"), ("q", "x")));

    [Theory]
    [InlineData("2026-12-02T10:15:00Z", "2026-12-02T10:15:00.0000000+00:00")]
    [InlineData("2026-12-02t10:15:00z", "2026-12-02T10:15:00.0000000+00:00")]
    [InlineData("2026-12-02T11:15:00.5+01:00", "2026-12-02T10:15:00.5000000+00:00")]
    [InlineData("2026-12-02T10:15:00.123456789-00:30", "2026-12-02T10:45:00.1234567+00:00")]
    public void As_of_is_an_RFC_3339_time_taken_in_UTC(string value, string expected)
    {
        var at = Parse(("as_of", value))!;
        Assert.Null(at.VersionId);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), at.AsOf);
        Assert.Equal(TimeSpan.Zero, at.AsOf!.Value.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2026-12-02")]
    [InlineData("2026-12-02T10:15:00")] // no offset: whose time?
    [InlineData("2026-12-02 10:15:00Z")]
    [InlineData("2026-12-02T10:15:00 01:00")] // a + the URL decoded as a space
    [InlineData("2026-13-02T10:15:00Z")]
    [InlineData("2026-02-30T10:15:00Z")]
    [InlineData("1764670500")]
    [InlineData("yesterday")]
    [InlineData("2026-12-02T10:15:00Z\n")]
    public void Anything_else_as_of_is_a_400_naming_the_format(string value)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(("as_of", value)));
        Assert.Contains("RFC 3339", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3-0b1f2c")]
    [InlineData("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")]
    [InlineData("null")]
    [InlineData("a.b_c=d/e")]
    public void A_version_id_of_S3_or_the_folder_is_taken_as_it_is(string id) => Assert.Equal(id, Parse(("version", id))!.VersionId);

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("a\n")]
    [InlineData("v%00")]
    [InlineData("é")]
    public void A_version_with_other_characters_is_a_400(string id)
    {
        var error = Assert.Throws<BadRequestException>(() => Parse(("version", id)));
        Assert.Contains("GET /db/versions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_version_id_longer_than_S3s_is_a_400() =>
        Assert.Throws<BadRequestException>(() => Parse(("version", new string('a', PointInTime.MaxVersionIdLength + 1))));

    [Fact]
    public void Both_flags_together_are_a_400() =>
        Assert.Equal(HistoryMessages.BothAsOfAndVersion, Assert.Throws<BadRequestException>(() => Parse(("as_of", "2026-12-02T10:15:00Z"), ("version", "1-a"))).Message);

    [Fact]
    public void The_request_flags_and_the_backup_request_carry_the_point_in_time()
    {
        var query = new Dictionary<string, string> { ["db"] = "shop", ["version"] = "2-ab" };
        Assert.Equal("2-ab", RequestFlagsParser.Parse(query).At!.VersionId);
        Assert.Equal("2-ab", BackupRequestParser.Parse(query).At!.VersionId);
    }
}
