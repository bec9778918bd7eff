using System.Text.Json;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary><c>GET /db/databases</c>: the stored databases, a page at a time, over the real folder store.</summary>
public sealed class DatabasesRouteTests : IDisposable
{
    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    private async Task CreateAsync(params string[] databases)
    {
        foreach (var database in databases)
        {
            var created = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE t (a)"]""", query: "db=" + database);
            Assert.True(created.StatusCode == 200, created.Body);
        }
    }

    [Fact]
    public async Task Lists_each_database_with_its_size_and_commit_time_in_name_order()
    {
        await CreateAsync("shop", "accounts");
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);

        var listed = await _api.SendAsync("GET", "/db/databases");

        Assert.Equal(200, listed.StatusCode);
        Assert.StartsWith("application/json", listed.ContentType);
        using var json = JsonDocument.Parse(listed.Body);
        var databases = json.RootElement.GetProperty("databases").EnumerateArray().ToList();
        Assert.Equal(["accounts", "shop"], databases.Select(d => d.GetProperty("name").GetString()));
        Assert.All(databases, d => Assert.Equal(new FileInfo(_api.Store.CurrentPath(d.GetProperty("name").GetString()!)!).Length, d.GetProperty("size").GetInt64()));
        Assert.All(databases, d => Assert.InRange(DateTimeOffset.Parse(d.GetProperty("last_modified").GetString()!, System.Globalization.CultureInfo.InvariantCulture), before, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.False(json.RootElement.TryGetProperty("next", out _));
    }

    [Fact]
    public async Task A_limit_pages_and_next_continues_where_the_page_ended()
    {
        await CreateAsync("a", "b", "c");

        var first = JsonDocument.Parse((await _api.SendAsync("GET", "/db/databases", query: "limit=2")).Body).RootElement;
        var next = first.GetProperty("next").GetString();
        var second = JsonDocument.Parse((await _api.SendAsync("GET", "/db/databases", query: "limit=2&next=" + next)).Body).RootElement;

        Assert.Equal(["a", "b"], first.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal("b", next);
        Assert.Equal(["c"], second.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.False(second.TryGetProperty("next", out _));
    }

    [Fact]
    public async Task No_databases_is_an_empty_list()
    {
        var listed = await _api.SendAsync("GET", "/db/databases");
        Assert.Equal(200, listed.StatusCode);
        Assert.Equal("""{"databases":[]}""", listed.Body);
    }

    [Theory]
    [InlineData("limit=0", "invalid limit '0'")]
    [InlineData("limit=1001", "invalid limit '1001'")]
    [InlineData("limit=-1", "invalid limit '-1'")]
    [InlineData("limit=ten", "invalid limit 'ten'")]
    [InlineData("limit=", "invalid limit ''")]
    [InlineData("next=..%2Fetc", "invalid next '../etc'")]
    [InlineData("next=", "invalid next ''")]
    public async Task A_bad_limit_or_token_is_a_400(string query, string message)
    {
        await CreateAsync("a");
        var listed = await _api.SendAsync("GET", "/db/databases", query: query);
        Assert.Equal(400, listed.StatusCode);
        Assert.StartsWith(message, listed.Body);
    }

    [Fact]
    public async Task Another_method_is_a_405()
    {
        var listed = await _api.SendAsync("POST", "/db/databases", "[]");
        Assert.Equal(405, listed.StatusCode);
        Assert.Equal("GET, OPTIONS", listed.Headers["Allow"]);
    }
}
