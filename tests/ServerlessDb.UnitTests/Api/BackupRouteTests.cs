using System.IO.Compression;
using System.Text;
using Microsoft.Data.Sqlite;
using ServerlessDb.Api;
using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary><c>GET /db/backup</c>: rqlite's flags, its dump text, gzip, content types, and the redirect past the inline limit.</summary>
public sealed class BackupRouteTests : IDisposable
{
    private const string Schema = """
        ["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, score REAL, data BLOB)",
         "INSERT INTO foo VALUES (1, 'fiona', 2.5, x'0102')",
         "INSERT INTO foo VALUES (2, 'it''s', NULL, NULL)",
         "CREATE TABLE t2 (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)",
         "INSERT INTO t2(x) VALUES ('a')",
         "CREATE INDEX foo_name ON foo(name)",
         "CREATE VIEW v AS SELECT name FROM foo"]
        """;

    private const string Dump = """
        PRAGMA foreign_keys=OFF;
        BEGIN TRANSACTION;
        CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, score REAL, data BLOB);
        INSERT INTO "foo" VALUES(1,'fiona',2.5,X'0102');
        INSERT INTO "foo" VALUES(2,'it''s',NULL,NULL);
        DELETE FROM "sqlite_sequence";
        INSERT INTO "sqlite_sequence" VALUES('t2',1);
        CREATE TABLE t2 (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT);
        INSERT INTO "t2" VALUES(1,'a');
        CREATE INDEX foo_name ON foo(name);
        CREATE VIEW v AS SELECT name FROM foo;
        COMMIT;

        """;

    private const string EmptyDump = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n";

    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    private async Task SeedAsync(ApiHarness api, string database = "default")
    {
        var seeded = await api.SendAsync("POST", "/db/execute", Schema, query: "db=" + database);
        Assert.True(seeded.StatusCode == 200, seeded.Body);
    }

    private static byte[] Bytes(ApiResponse response)
    {
        Assert.True(response.StatusCode == 200, $"{response.StatusCode}: {response.Body}");
        using var file = response.File ?? throw new InvalidOperationException("not a binary answer");
        Assert.Equal(file.Length, new FileInfo(file.Path).Length);
        return File.ReadAllBytes(file.Path);
    }

    private static byte[] Gunzip(byte[] bytes)
    {
        using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var copy = new MemoryStream();
        gzip.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task The_binary_backup_is_the_stored_file_as_a_sqlite_database()
    {
        await SeedAsync(_api);
        var response = await _api.SendAsync("GET", "/db/backup");
        Assert.Equal("application/octet-stream", response.ContentType);
        using (var file = response.File!)
        {
            // The snapshot file itself, opened where it is, read-only.
            using var connection = new SqliteConnection($"Data Source={file.Path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var check = new SqliteCommand("PRAGMA integrity_check", connection);
            Assert.Equal("ok", check.ExecuteScalar());
            using var names = new SqliteCommand("SELECT group_concat(name) FROM (SELECT name FROM foo ORDER BY id)", connection);
            Assert.Equal("fiona,it's", names.ExecuteScalar());
        }

        Assert.Equal(File.ReadAllBytes(_api.Store.PathOf("default")), Bytes(await _api.SendAsync("GET", "/db/backup")));
    }

    [Fact]
    public async Task Fmt_sql_is_rqlites_dump()
    {
        await SeedAsync(_api);
        var response = await _api.SendAsync("GET", "/db/backup", query: "fmt=sql");
        Assert.Equal("application/sql", response.ContentType);
        Assert.Equal(Dump.ReplaceLineEndings("\n"), Encoding.UTF8.GetString(Bytes(response)));
    }

    [Fact]
    public async Task Tables_limits_a_dump_to_the_tables_named()
    {
        await SeedAsync(_api);
        var dump = Encoding.UTF8.GetString(Bytes(await _api.SendAsync("GET", "/db/backup", query: "fmt=sql&tables=t2")));
        Assert.Contains("CREATE TABLE t2", dump, StringComparison.Ordinal);
        Assert.DoesNotContain("INSERT INTO \"foo\"", dump, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compress")]
    [InlineData("compress&fmt=sql")]
    public async Task Compress_gzips_the_body(string query)
    {
        await SeedAsync(_api);
        var plain = Bytes(await _api.SendAsync("GET", "/db/backup", query: query.Replace("compress", "x", StringComparison.Ordinal)));
        var compressed = await _api.SendAsync("GET", "/db/backup", query: query);
        Assert.Equal(plain, Gunzip(Bytes(compressed)));
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_backed_up_as_the_empty_database_and_stays_missing()
    {
        Assert.Empty(Bytes(await _api.SendAsync("GET", "/db/backup", query: "db=nothing")));
        Assert.Equal(EmptyDump, Encoding.UTF8.GetString(Bytes(await _api.SendAsync("GET", "/db/backup", query: "db=nothing&fmt=sql"))));
        Assert.Null(_api.Store.CurrentETag("nothing"));
        Assert.Equal(0, _api.Store.Commits);
    }

    [Theory]
    [InlineData("db=nothing&compress")]
    [InlineData("db=nothing&compress&fmt=sql")]
    public async Task A_compressed_backup_of_a_database_that_does_not_exist_is_a_gzip_stream_of_the_plain_backup(string query)
    {
        var plain = Bytes(await _api.SendAsync("GET", "/db/backup", query: query.Replace("compress", "x", StringComparison.Ordinal)));
        var compressed = Bytes(await _api.SendAsync("GET", "/db/backup", query: query));

        // GZipStream reads an empty body as empty; gunzip refuses it. A gzip stream starts with its magic bytes.
        Assert.True(compressed.Length >= 18 && compressed[0] == 0x1f && compressed[1] == 0x8b, $"not a gzip stream: {Convert.ToHexString(compressed)}");
        Assert.Equal(plain, Gunzip(compressed));
    }

    [Theory]
    [InlineData("GET", "fmt=xml", 400, "unsupported backup format 'xml'")]
    [InlineData("GET", "fmt=delete", 400, "unsupported backup format 'delete'")]
    [InlineData("GET", "vacuum", 400, "vacuum is not supported")]
    [InlineData("GET", "db=no%20such!", 400, "invalid database name")]
    [InlineData("GET", "level=sometimes", 400, "unrecognized consistency level")]
    [InlineData("POST", "", 405, "method not allowed")]
    public async Task Bad_requests_are_4xx_and_change_nothing(string method, string query, int status, string message)
    {
        await SeedAsync(_api);
        var before = _api.Store.CurrentETag("default");
        var response = await _api.SendAsync(method, "/db/backup", query: query);
        Assert.Equal(status, response.StatusCode);
        Assert.Null(response.File);
        Assert.StartsWith(message, response.Body, StringComparison.Ordinal);
        Assert.Equal(before, _api.Store.CurrentETag("default"));
    }

    [Fact]
    public async Task A_backup_over_the_inline_limit_is_a_307_to_the_stores_link_for_that_version()
    {
        var links = new RecordingLinks();
        using var api = new ApiHarness(maxInlineResponseBytes: 2048, links: links, store: _api.Store);
        await SeedAsync(api);

        var response = await api.SendAsync("GET", "/db/backup");
        Assert.Equal(307, response.StatusCode);
        Assert.Null(response.File);
        Assert.Equal("https://store.example/default?version=" + Uri.EscapeDataString(_api.Store.CurrentETag("default")!), response.Headers["Location"]);
        Assert.Equal(TimeSpan.FromMinutes(5), links.Expiry);

        // Under the limit (the missing database: an empty file) the bytes come inline.
        Assert.Empty(Bytes(await api.SendAsync("GET", "/db/backup", query: "db=small")));
    }

    [Theory]
    [InlineData("fmt=sql")]
    [InlineData("compress")]
    public async Task A_generated_backup_over_the_inline_limit_is_a_413(string query)
    {
        using var api = new ApiHarness(maxInlineResponseBytes: 100, links: new RecordingLinks(), store: _api.Store);
        await SeedAsync(api);
        var response = await api.SendAsync("GET", "/db/backup", query: query);
        Assert.Equal(413, response.StatusCode);
        Assert.StartsWith("backup too large", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_links_a_large_backup_is_a_413_and_without_a_limit_it_is_inline()
    {
        using var limited = new ApiHarness(maxInlineResponseBytes: 100, store: _api.Store);
        await SeedAsync(limited);
        Assert.Equal(413, (await limited.SendAsync("GET", "/db/backup")).StatusCode);
        Assert.NotEmpty(Bytes(await _api.SendAsync("GET", "/db/backup")));
    }

    private sealed class RecordingLinks : IDatabaseLinks
    {
        public TimeSpan? Expiry { get; private set; }

        public Task<Uri> LinkToAsync(string database, DatabaseETag version, TimeSpan expiry, CancellationToken cancellationToken)
        {
            Expiry = expiry;
            return Task.FromResult(new Uri($"https://store.example/{database}?version={Uri.EscapeDataString(version.ETag!)}"));
        }

        public Task<Uri> LinkToVersionAsync(string database, string versionId, TimeSpan expiry, CancellationToken cancellationToken)
        {
            Expiry = expiry;
            return Task.FromResult(new Uri($"https://store.example/{database}?versionId={Uri.EscapeDataString(versionId)}"));
        }

        public Task<Uri> LinkToCopyAsync(string database, string filePath, TimeSpan expiry, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a stored whole file is linked to, not copied");
    }
}
