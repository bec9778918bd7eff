using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using ServerlessDb.Api;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Api;

/// <summary><c>POST /db/load</c> on the real folder store: files and dumps replace the database; every bad file is a 400 that changes nothing.</summary>
public sealed class LoadRouteTests : IDisposable
{
    private const string Schema = """
        ["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, score REAL, data BLOB)",
         "INSERT INTO foo VALUES (1, 'fiona', 2.5, x'0102')",
         "INSERT INTO foo VALUES (2, 'it''s; -- not a comment', NULL, NULL)",
         "CREATE TABLE t2 (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)",
         "INSERT INTO t2(x) VALUES ('a')",
         "CREATE INDEX foo_name ON foo(name)",
         "CREATE VIEW v AS SELECT name FROM foo",
         "CREATE TRIGGER tr AFTER INSERT ON t2 BEGIN UPDATE foo SET score = score + 1; END"]
        """;

    private const string Rows = "SELECT (SELECT group_concat(id || ':' || name || ':' || ifnull(score, '-') || ':' || ifnull(hex(data), '-'), '|') FROM foo) || ' / ' || (SELECT group_concat(x) FROM t2) || ' / ' || (SELECT group_concat(type || ' ' || name, ',') FROM (SELECT type, name FROM sqlite_schema ORDER BY name))";

    private readonly ApiHarness _api = new();

    public void Dispose() => _api.Dispose();

    private Task<ApiResponse> LoadAsync(byte[] body, string contentType = "application/octet-stream", string query = "db=target") =>
        _api.Api.HandleAsync(
            new ApiRequest(
                "POST",
                "/db/load",
                query.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty),
                new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = contentType },
                body,
                "req-load"),
            CancellationToken.None);

    private async Task SeedAsync(string database)
    {
        var seeded = await _api.SendAsync("POST", "/db/execute", Schema, query: "db=" + database);
        Assert.True(seeded.StatusCode == 200, seeded.Body);
    }

    private async Task<byte[]> BackupAsync(string database, string query = "")
    {
        var response = await _api.SendAsync("GET", "/db/backup", query: $"db={database}{query}");
        Assert.True(response.StatusCode == 200, response.Body);
        using var file = response.File!;
        return File.ReadAllBytes(file.Path);
    }

    private string? Stored(string database) => _api.Store.CurrentPath(database) is { } path ? Query(path, Rows) : null;

    private static string Query(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand(sql, connection);
        return command.ExecuteScalar()?.ToString() ?? "(null)";
    }

    private static JsonElement Loaded(ApiResponse response)
    {
        Assert.True(response.StatusCode == 200, $"{response.StatusCode}: {response.Body}");
        using var document = JsonDocument.Parse(response.Body);
        var loaded = document.RootElement.GetProperty("loaded");

        // rqlite answers a SQL load as an execute of the text (one result), a file load with none.
        Assert.Equal(loaded.GetProperty("format").GetString() == "sql" ? 1 : 0, document.RootElement.GetProperty("results").GetArrayLength());
        return loaded.Clone();
    }

    [Fact]
    public async Task A_dump_is_answered_with_its_last_statements_counts_as_rqlite_answers_a_sql_load()
    {
        var response = await _api.SendAsync(
            "POST", "/db/load", "CREATE TABLE fooRestore (id integer not null primary key, name text);INSERT INTO fooRestore(name) VALUES (\"fiona\");INSERT INTO fooRestore(name) VALUES (\"justin\")",
            query: "db=restored", contentType: "text/plain");

        Assert.Equal(200, response.StatusCode);
        Assert.StartsWith("""{"results":[{"last_insert_id":2,"rows_affected":1}],"loaded":{"format":"sql",""", response.Body);
    }

    [Fact]
    public async Task A_binary_backup_loads_into_another_database_byte_for_byte()
    {
        await SeedAsync("source");
        var backup = await BackupAsync("source");

        var loaded = Loaded(await LoadAsync(backup));

        Assert.Equal("sqlite", loaded.GetProperty("format").GetString());
        Assert.Equal(backup.Length, loaded.GetProperty("bytes").GetInt64());
        Assert.Equal(2, loaded.GetProperty("tables").GetInt32());
        Assert.Equal(_api.Store.CurrentETag("target"), loaded.GetProperty("version").GetString());
        Assert.Equal(backup, File.ReadAllBytes(_api.Store.CurrentPath("target")!));
        Assert.Equal(Stored("source"), Stored("target"));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/sql")]
    [InlineData("")]
    public async Task A_dump_backup_loads_as_the_same_rows_and_schema(string contentType)
    {
        await SeedAsync("source");
        var dump = await BackupAsync("source", "&fmt=sql");

        var loaded = Loaded(await LoadAsync(dump, contentType));

        Assert.Equal("sql", loaded.GetProperty("format").GetString());
        Assert.Equal("ok", Query(_api.Store.CurrentPath("target")!, "PRAGMA integrity_check"));
        Assert.Equal(Stored("source"), Stored("target"));
        Assert.Equal(Encoding.UTF8.GetString(dump), Encoding.UTF8.GetString(await BackupAsync("target", "&fmt=sql")));
    }

    [Fact]
    public async Task A_load_replaces_the_database_rather_than_adding_to_it()
    {
        await SeedAsync("target");
        var response = await LoadAsync("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE only(x);\nINSERT INTO \"only\" VALUES(7);\nCOMMIT;\n"u8.ToArray(), "text/plain");

        Loaded(response);
        Assert.Equal("table only", Query(_api.Store.CurrentPath("target")!, "SELECT group_concat(type || ' ' || name) FROM sqlite_schema"));
        Assert.Equal("7", Query(_api.Store.CurrentPath("target")!, "SELECT x FROM only"));
    }

    [Fact]
    public async Task The_empty_dump_loads_an_empty_database()
    {
        await SeedAsync("target");
        Loaded(await LoadAsync("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n"u8.ToArray(), "text/plain"));
        Assert.Equal("0", Query(_api.Store.CurrentPath("target")!, "SELECT count(*) FROM sqlite_schema"));
    }

    [Fact]
    public async Task A_dump_with_the_services_idempotency_records_round_trips()
    {
        var keyed = await _api.SendAsync("POST", "/db/execute", """["CREATE TABLE k(x)", "INSERT INTO k VALUES (1)"]""", query: "db=source",
            headers: new Dictionary<string, string> { ["Idempotency-Key"] = "key-1" });
        Assert.Equal(200, keyed.StatusCode);
        var dump = await BackupAsync("source", "&fmt=sql");
        Assert.Contains("_serverlessdb_idempotency", Encoding.UTF8.GetString(dump), StringComparison.Ordinal);

        Loaded(await LoadAsync(dump, "text/plain"));
        Assert.Equal("1", Query(_api.Store.CurrentPath("target")!, "SELECT count(*) FROM _serverlessdb_idempotency"));
    }

    [Fact]
    public async Task A_wal_mode_file_is_loaded_in_rollback_mode_with_its_rows()
    {
        using var wal = new TempDatabase("PRAGMA journal_mode=WAL", "CREATE TABLE w(x)", "INSERT INTO w VALUES ('kept')");
        var bytes = File.ReadAllBytes(wal.FilePath);
        Assert.Equal(2, bytes[18]);

        Loaded(await LoadAsync(bytes));

        var stored = File.ReadAllBytes(_api.Store.CurrentPath("target")!);
        Assert.Equal((1, 1), (stored[18], stored[19]));
        Assert.Equal("kept", Query(_api.Store.CurrentPath("target")!, "SELECT x FROM w"));
        Assert.False(File.Exists(_api.Store.CurrentPath("target") + "-wal"));
    }

    public static TheoryData<string, byte[], string, string> BadFiles()
    {
        var valid = DatabaseBytes.Valid(pages: 2);
        var notWholePages = valid[..700];
        var badPageSize = (byte[])valid.Clone();
        badPageSize[16] = 0x03;
        badPageSize[17] = 0x00;
        return new()
        {
            { "empty", [], "application/octet-stream", "the load body is empty" },
            { "text as a file", Encoding.ASCII.GetBytes(new string('x', 512)), "application/octet-stream", "does not start with the SQLite header string" },
            { "gzip", [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], "application/octet-stream", "shorter than the 100-byte SQLite header" },
            { "truncated", notWholePages, "application/octet-stream", "is not a whole number of" },
            { "bad page size", badPageSize, "application/octet-stream", "page size field" },
            { "header only", valid[..100], "", "not a whole number of" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_file_is_a_400_that_changes_nothing(string name, byte[] body, string contentType, string message)
    {
        await SeedAsync("target");
        var before = File.ReadAllBytes(_api.Store.CurrentPath("target")!);

        var response = await LoadAsync(body, contentType);

        Assert.True(response.StatusCode == 400, $"{name}: {response.StatusCode} {response.Body}");
        Assert.Contains(message, response.Body, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_api.Store.CurrentPath("target")!));
    }

    [Fact]
    public async Task A_file_that_fails_its_integrity_check_is_a_400_that_changes_nothing()
    {
        using var source = new TempDatabase("CREATE TABLE a(x)", "CREATE INDEX ax ON a(x)", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO a SELECT i FROM n");
        var bytes = File.ReadAllBytes(source.FilePath);
        var pageSize = (bytes[16] << 8) | bytes[17];
        Array.Fill(bytes, (byte)0x5a, (2 * pageSize) + 8, pageSize / 2); // the middle of page 3, a b-tree page

        var response = await LoadAsync(bytes);

        Assert.True(response.StatusCode == 400, $"{response.StatusCode}: {response.Body}");
        Assert.Contains("not a valid SQLite database file", response.Body, StringComparison.Ordinal);
        Assert.Null(_api.Store.CurrentPath("target"));
    }

    [Theory]
    [InlineData("ATTACH DATABASE '/tmp/x.sqlite' AS x;", "ATTACH, DETACH and VACUUM INTO are not allowed")]
    [InlineData("SELECT load_extension('/tmp/evil');", "load_extension() is not allowed")]
    [InlineData("VACUUM INTO '/tmp/copy.sqlite';", "VACUUM")]
    [InlineData("PRAGMA journal_mode=WAL;", "PRAGMA journal_mode cannot be changed")]
    [InlineData("PRAGMA writable_schema=ON;", "PRAGMA writable_schema cannot be changed")]
    [InlineData("SAVEPOINT s;", "transaction control")]
    [InlineData("ROLLBACK;", "the dump rolls back")]
    [InlineData("INSERT INTO missing VALUES (1);", "the dump's statement 4 failed: no such table: missing")]
    public async Task A_dump_is_still_sandboxed_beyond_its_framing_and_a_refusal_changes_nothing(string statement, string message)
    {
        await SeedAsync("target");
        var before = File.ReadAllBytes(_api.Store.CurrentPath("target")!);
        var dump = $"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(x);\n{statement}\nCOMMIT;\n";

        var response = await LoadAsync(Encoding.UTF8.GetBytes(dump), "text/plain");

        Assert.True(response.StatusCode == 400, $"{response.StatusCode}: {response.Body}");
        Assert.Contains(message, response.Body, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_api.Store.CurrentPath("target")!));
    }

    [Fact]
    public async Task A_body_over_the_request_limit_is_a_413_that_changes_nothing()
    {
        var response = await LoadAsync(new byte[(1 << 20) + 1]);
        Assert.Equal(413, response.StatusCode);
        Assert.Null(_api.Store.CurrentPath("target"));
    }

    [Fact]
    public async Task The_folder_store_has_no_staging_area()
    {
        var upload = await _api.SendAsync("POST", "/db/load/upload", query: "db=target");
        Assert.Equal(400, upload.StatusCode);
        Assert.Contains("POST the file to /db/load", upload.Body, StringComparison.Ordinal);

        var staged = await LoadAsync([], query: "db=target&staged=0123456789abcdef0123456789abcdef");
        Assert.Equal(400, staged.StatusCode);
        Assert.Contains("no staging area", staged.Body, StringComparison.Ordinal);
        Assert.Null(_api.Store.CurrentPath("target"));
    }

    [Theory]
    [InlineData("db=target&staged=../../databases/other", "invalid staged upload id")]
    [InlineData("db=target&staged=", "invalid staged upload id")]
    [InlineData("db=bad/name", "invalid database name")]
    public async Task Bad_parameters_are_400s(string query, string message)
    {
        var response = await LoadAsync("CREATE TABLE t(x);"u8.ToArray(), "text/plain", query);
        Assert.Equal(400, response.StatusCode);
        Assert.Contains(message, response.Body, StringComparison.Ordinal);
        Assert.Null(_api.Store.CurrentPath("target"));
    }

    [Fact]
    public async Task A_staged_load_with_a_body_is_a_400()
    {
        var response = await LoadAsync("x"u8.ToArray(), query: "db=target&staged=0123456789abcdef0123456789abcdef");
        Assert.Equal(400, response.StatusCode);
        Assert.Contains("send no body", response.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/db/load")]
    [InlineData("/db/load/upload")]
    public async Task Other_methods_are_405(string path)
    {
        var response = await _api.SendAsync("GET", path);
        Assert.Equal(405, response.StatusCode);
        Assert.Contains(response.Headers, h => h.Key == "Allow" && h.Value == "POST, OPTIONS");
    }
}
