using Moq;
using ServerlessDb.Api;
using ServerlessDb.Errors;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

public sealed class CorruptDatabaseResponseTests : IDisposable
{
    private static readonly DatabaseETag Version = new("\"e1\"");

    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

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
        const string NotADatabase = "this is not a database, and SQLite says so when it opens it for writing";
        await File.WriteAllTextAsync(_file, NotADatabase);
        // A fake store: the real ones check the header when they fetch, so SQLite would never see this file.
        var store = new Mock<IDatabaseStore>(MockBehavior.Strict);
        store.Setup(s => s.GetAsync("default", It.IsAny<TimeSpan?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new DatabaseSnapshot(Version, _file, release: null));
        store.Setup(s => s.ReadAsync("default", It.IsAny<TimeSpan?>(), It.IsAny<CancellationToken>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new DatabaseRead(new DatabaseSnapshot(Version, _file, release: null)));
        store.Setup(s => s.CopyForWriteAsync("default", It.IsAny<DatabaseSnapshot>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string _, DatabaseSnapshot snapshot, string target, CancellationToken _) =>
            {
                File.Copy(snapshot.FilePath, target);
                return Task.CompletedTask;
            });
        using var api = new ApiHarness(store: store.Object);

        var response = await api.SendAsync("POST", path, body);

        Assert.Equal(500, response.StatusCode);
        Assert.StartsWith($"Database 'default' (version {Version}) is not a valid SQLite database: ", response.Body);
        Assert.Contains("file is not a database", response.Body);
        Assert.EndsWith("Nothing was changed; restore a good version of the object.\n", response.Body);
        store.Verify(s => s.CommitAsync(It.IsAny<string>(), It.IsAny<DatabaseETag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Equal(NotADatabase, await File.ReadAllTextAsync(_file));
        var line = api.Log.Lines.Last();
        Assert.Contains("\"level\":\"error\"", line);
        Assert.Contains("is not a valid SQLite database", line);
    }
}
