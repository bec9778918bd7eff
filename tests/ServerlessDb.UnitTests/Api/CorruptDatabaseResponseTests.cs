using ServerlessDb.Api;
using ServerlessDb.Errors;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

public sealed class CorruptDatabaseResponseTests : IDisposable
{
    private readonly ApiHarness _api = new();
    private readonly string _file = Path.GetTempFileName();

    public void Dispose()
    {
        _api.Dispose();
        File.Delete(_file);
    }

    [Fact]
    public void A_corrupt_database_is_a_500_that_says_what_and_where_not_internal_error()
    {
        var error = new DatabaseCorruptException("shop", "s3://b/databases/shop.sqlite, version \"e1\"", "it does not start with the SQLite header string");

        var response = ErrorResponses.For(error);

        Assert.NotNull(response);
        Assert.Equal(500, response.StatusCode);
        Assert.Equal(error.Message + "\n", response.Body);
        var log = new RecordingLogSink();
        ErrorResponses.Log(log, TimeProvider.System, "request", null, response.StatusCode, error);
        Assert.Contains("\"level\":\"error\"", Assert.Single(log.Lines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/db/execute", """["CREATE TABLE t(a)"]""")]
    [InlineData("/db/request", """["INSERT INTO t VALUES (1)"]""")]
    public async Task A_write_on_a_file_sqlite_calls_not_a_database_is_a_500_naming_the_database_and_changes_nothing(string path, string body)
    {
        await File.WriteAllTextAsync(_file, "this is not a database, and SQLite says so when it opens it for writing");
        _api.Store.CommitFrom("default", _file);
        var before = _api.Store.CurrentETag("default");

        var response = await _api.SendAsync("POST", path, body);

        Assert.Equal(500, response.StatusCode);
        Assert.StartsWith($"Database 'default' (version {before}) is not a valid SQLite database: ", response.Body);
        Assert.Contains("file is not a database", response.Body);
        Assert.EndsWith("Nothing was changed; restore a good version of the object.\n", response.Body);
        Assert.Equal(before, _api.Store.CurrentETag("default"));
        Assert.Equal(1, _api.Store.Commits);
        var line = _api.Log.Lines.Last();
        Assert.Contains("\"level\":\"error\"", line);
        Assert.Contains("is not a valid SQLite database", line);
    }
}
