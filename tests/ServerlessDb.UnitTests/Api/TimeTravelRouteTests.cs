using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ServerlessDb.Api;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary>Time travel through the real API and engine over the real folder store: as_of and version on reads and backups, /db/versions, /db/restore.</summary>
public sealed class TimeTravelRouteTests : IDisposable
{
    private const string Db = "shop";
    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    private async Task<string> WriteAsync(string statements)
    {
        var response = await _api.SendAsync("POST", "/db/execute", statements, query: "db=" + Db);
        Assert.True(response.StatusCode == 200, response.Body);
        return _api.Store.CurrentVersionId(Db)!;
    }

    /// <summary>Two versions: "fiona" alone, then with "declan"; the time between them; and their ids.</summary>
    private async Task<(string First, DateTimeOffset Between, string Second)> TwoVersionsAsync()
    {
        var first = await WriteAsync("""["CREATE TABLE foo (name TEXT)", "INSERT INTO foo VALUES ('fiona')"]""");
        await Task.Delay(20);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(20);
        var second = await WriteAsync("""["INSERT INTO foo VALUES ('declan')"]""");
        return (first, between, second);
    }

    private async Task<string> NamesAsync(string flags)
    {
        var response = await _api.SendAsync("GET", "/db/query", query: $"db={Db}&q={Uri.EscapeDataString("SELECT group_concat(name) FROM foo")}&{flags}");
        Assert.True(response.StatusCode == 200, response.Body);
        return JsonDocument.Parse(response.Body).RootElement.GetProperty("results")[0].GetProperty("values")[0][0].GetString()!;
    }

    private static string Rfc3339(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));

    private int KeptVersions => _api.Store.KeptVersions(Db);

    [Fact]
    public async Task A_query_as_of_a_time_between_two_writes_sees_the_first_and_not_the_second()
    {
        var (first, between, _) = await TwoVersionsAsync();

        Assert.Equal("fiona", await NamesAsync("as_of=" + Rfc3339(between)));
        Assert.Equal("fiona", await NamesAsync("version=" + first));
        Assert.Equal("fiona,declan", await NamesAsync(""));
        Assert.Equal("fiona,declan", await NamesAsync("as_of=" + Rfc3339(DateTimeOffset.UtcNow.AddMinutes(1))));

        var posted = await _api.SendAsync("POST", "/db/query", """["SELECT count(*) FROM foo"]""", query: $"db={Db}&version={first}");
        Assert.Contains("\"values\":[[1]]", posted.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task As_of_before_the_first_version_or_an_unknown_version_is_a_404()
    {
        var (_, _, second) = await TwoVersionsAsync();

        var before = await _api.SendAsync("GET", "/db/query", query: $"db={Db}&q=SELECT+1&as_of=2000-01-01T00:00:00Z");
        var unknown = await _api.SendAsync("GET", "/db/backup", query: $"db={Db}&version=9-nosuchversion");

        Assert.Equal(404, before.StatusCode);
        Assert.Contains("has no version as of 2000-01-01T00:00:00Z", before.Body, StringComparison.Ordinal);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(second, _api.Store.CurrentVersionId(Db));
    }

    [Theory]
    [InlineData("/db/execute", """["INSERT INTO foo VALUES ('x')"]""")]
    [InlineData("/db/execute", """["SELECT 1"]""")]
    [InlineData("/db/request", """["SELECT 1", "INSERT INTO foo VALUES ('x')"]""")]
    [InlineData("/sql", "SELECT 1; DELETE FROM foo;")]
    public async Task A_write_with_as_of_or_version_is_a_400_that_stores_nothing(string path, string body)
    {
        var (first, between, second) = await TwoVersionsAsync();
        var commits = _api.Store.Commits;

        foreach (var flag in new[] { "version=" + first, "as_of=" + Rfc3339(between) })
        {
            var response = await _api.SendAsync("POST", path, body, query: $"db={Db}&{flag}", contentType: path == "/sql" ? "text/plain" : "application/json");
            Assert.True(response.StatusCode == 400, response.Body);
            Assert.Contains("POST /db/restore", response.Body, StringComparison.Ordinal);
        }

        Assert.Equal(commits, _api.Store.Commits);
        Assert.Equal(second, _api.Store.CurrentVersionId(Db));
        Assert.Equal(1, KeptVersions);
        Assert.Equal("fiona,declan", await NamesAsync(""));
    }

    [Fact]
    public async Task A_read_only_request_with_a_version_reads_it_and_its_idempotency_key_is_ignored()
    {
        var (first, _, _) = await TwoVersionsAsync();
        var headers = new Dictionary<string, string> { [ServerlessDbApi.IdempotencyKeyHeader] = "k1" };

        var request = await _api.SendAsync("POST", "/db/request", """["SELECT count(*) FROM foo"]""", query: $"db={Db}&version={first}", headers: headers);
        var script = await _api.SendAsync("POST", "/sql", "SELECT count(*) FROM foo;", query: $"db={Db}&version={first}", contentType: "text/plain");

        Assert.Contains("\"values\":[[1]]", request.Body, StringComparison.Ordinal);
        Assert.Contains("\"values\":[[1]]", script.Body, StringComparison.Ordinal);
        Assert.Equal(2, _api.Store.Commits);
    }

    [Fact]
    public async Task Versions_are_listed_newest_first_with_their_time_size_and_which_is_current_and_paged()
    {
        var (first, between, second) = await TwoVersionsAsync();
        var third = await WriteAsync("""["DELETE FROM foo"]""");

        var all = JsonDocument.Parse((await _api.SendAsync("GET", "/db/versions", query: "db=" + Db)).Body).RootElement;
        var versions = all.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal([third, second, first], versions.Select(v => v.GetProperty("id").GetString()));
        Assert.Equal([true, false, false], versions.Select(v => v.GetProperty("current").GetBoolean()));
        Assert.Equal(new FileInfo(_api.Store.CurrentPath(Db)!).Length, versions[0].GetProperty("size").GetInt64());
        var times = versions.Select(v => DateTimeOffset.Parse(v.GetProperty("time").GetString()!, CultureInfo.InvariantCulture)).ToList();
        Assert.True(times[2] < between && between < times[1] && times[1] <= times[0], string.Join(", ", times));
        Assert.False(all.TryGetProperty("next", out _));

        var page1 = JsonDocument.Parse((await _api.SendAsync("GET", "/db/versions", query: $"db={Db}&limit=2")).Body).RootElement;
        var next = page1.GetProperty("next").GetString()!;
        var page2 = JsonDocument.Parse((await _api.SendAsync("GET", "/db/versions", query: $"db={Db}&limit=2&next={next}")).Body).RootElement;
        Assert.Equal([third, second], page1.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("id").GetString()));
        Assert.Equal([first], page2.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("id").GetString()));
        Assert.False(page2.TryGetProperty("next", out _));

        Assert.Equal("""{"versions":[]}""", (await _api.SendAsync("GET", "/db/versions", query: "db=never")).Body);
    }

    [Theory]
    [InlineData("limit=0", "invalid limit")]
    [InlineData("limit=1001", "invalid limit")]
    [InlineData("limit=-1", "invalid limit")]
    [InlineData("limit=abc", "invalid limit")]
    [InlineData("next=", "invalid next")]
    [InlineData("next=a%20b", "invalid next")]
    [InlineData("next=bm90LWEtdG9rZW4", "invalid next")]
    [InlineData("db=../x", "invalid database name")]
    public async Task Bad_versions_flags_are_a_400(string query, string message)
    {
        await WriteAsync("""["CREATE TABLE t (a)"]""");

        var response = await _api.SendAsync("GET", "/db/versions", query: query);

        Assert.Equal(400, response.StatusCode);
        Assert.StartsWith(message, response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restoring_an_old_version_then_restoring_back_gives_the_newer_content()
    {
        var (first, _, second) = await TwoVersionsAsync();

        var restored = await _api.SendAsync("POST", "/db/restore", query: $"db={Db}&version={first}");
        Assert.True(restored.StatusCode == 200, restored.Body);
        var answer = JsonDocument.Parse(restored.Body).RootElement;
        var restoreVersion = _api.Store.CurrentVersionId(Db)!;
        Assert.Equal(first, answer.GetProperty("restored").GetString());
        Assert.Equal(restoreVersion, answer.GetProperty("version").GetString());
        Assert.NotEqual(first, restoreVersion);
        Assert.Equal("fiona", await NamesAsync(""));
        Assert.Equal(2, KeptVersions); // nothing destroyed: both earlier versions are still there

        var undone = await _api.SendAsync("POST", "/db/restore", query: $"db={Db}&version={second}");
        Assert.True(undone.StatusCode == 200, undone.Body);
        Assert.Equal("fiona,declan", await NamesAsync(""));
        Assert.Equal(4, _api.Store.Commits);
        Assert.Equal(3, KeptVersions);
    }

    [Fact]
    public async Task A_restore_as_of_a_time_restores_the_version_current_then()
    {
        var (first, between, _) = await TwoVersionsAsync();

        var restored = await _api.SendAsync("POST", "/db/restore", query: $"db={Db}&as_of={Rfc3339(between)}");

        Assert.Equal(first, JsonDocument.Parse(restored.Body).RootElement.GetProperty("restored").GetString());
        Assert.Equal("fiona", await NamesAsync(""));
    }

    [Theory]
    [InlineData("version=9-nosuchversion", 404)]
    [InlineData("as_of=2000-01-01T00:00:00Z", 404)]
    [InlineData("", 400)]
    [InlineData("as_of=yesterday", 400)]
    [InlineData("version=a%20b", 400)]
    public async Task A_restore_of_no_kept_version_changes_nothing(string query, int status)
    {
        var (_, _, second) = await TwoVersionsAsync();

        var response = await _api.SendAsync("POST", "/db/restore", query: $"db={Db}&{query}");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(second, _api.Store.CurrentVersionId(Db));
        Assert.Equal(2, _api.Store.Commits);
        Assert.Equal(1, KeptVersions);
    }

    [Theory]
    [InlineData("POST", "/db/versions", "GET, OPTIONS")]
    [InlineData("GET", "/db/restore", "POST, OPTIONS")]
    public async Task Other_methods_are_a_405(string method, string path, string allow)
    {
        var response = await _api.SendAsync(method, path, query: "db=" + Db);

        Assert.Equal(405, response.StatusCode);
        Assert.Equal(allow, response.Headers["Allow"]);
        Assert.Equal(0, _api.Store.Commits);
    }

    [Fact]
    public async Task A_backup_of_a_version_is_that_version_and_its_dump()
    {
        var (first, between, _) = await TwoVersionsAsync();

        var response = await _api.SendAsync("GET", "/db/backup", query: $"db={Db}&version={first}");
        using (var file = response.File!)
        {
            using var connection = new SqliteConnection($"Data Source={file.Path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var count = new SqliteCommand("SELECT group_concat(name) FROM foo", connection);
            Assert.Equal("fiona", count.ExecuteScalar());
        }

        var dump = await _api.SendAsync("GET", "/db/backup", query: $"db={Db}&fmt=sql&as_of={Rfc3339(between)}");
        using (var file = dump.File!)
        {
            Assert.EndsWith("INSERT INTO \"foo\" VALUES('fiona');\nCOMMIT;\n", File.ReadAllText(file.Path), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_backup_of_a_version_past_the_inline_limit_links_to_that_version_id()
    {
        var links = new VersionLinks();
        using var limited = new ApiHarness(maxInlineResponseBytes: 100, store: _api.Store, links: links);
        var (first, _, _) = await TwoVersionsAsync();

        var response = await limited.SendAsync("GET", "/db/backup", query: $"db={Db}&version={first}");

        Assert.Equal(307, response.StatusCode);
        Assert.Equal($"https://store.example/{Db}?versionId={first}", response.Headers["Location"]);
        Assert.Equal(first, links.VersionId);
    }

    private sealed class VersionLinks : IDatabaseLinks
    {
        public string? VersionId { get; private set; }

        public Task<Uri> LinkToAsync(string database, DatabaseETag version, TimeSpan expiry, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("an old version must be linked to by its id");

        public Task<Uri> LinkToVersionAsync(string database, string versionId, TimeSpan expiry, CancellationToken cancellationToken)
        {
            VersionId = versionId;
            return Task.FromResult(new Uri($"https://store.example/{database}?versionId={versionId}"));
        }

        public Task<Uri> LinkToCopyAsync(string database, string filePath, TimeSpan expiry, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a stored whole file is linked to, not copied");
    }
}
