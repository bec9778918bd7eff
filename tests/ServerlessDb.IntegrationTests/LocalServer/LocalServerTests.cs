using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using LocalServerApp = global::LocalServer.LocalServerApp;
using LocalServerSettings = global::LocalServer.LocalServerSettings;
using LocalServerStartException = global::LocalServer.LocalServerStartException;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>The local server in this process over real HTTP, with its default storage: a local folder and the local lock.</summary>
public sealed class LocalServerTests
{
    [Fact]
    public async Task It_prints_its_url_and_where_the_data_lives_and_answers_as_the_lambda_does()
    {
        await using var server = await LocalServerHandle.StartAsync();

        Assert.Equal(IPAddress.Loopback.ToString(), server.App.Url.Host);
        Assert.NotEqual(0, server.App.Url.Port);
        Assert.Contains($"ServerlessDb local server listening on http://127.0.0.1:{server.App.Url.Port}", server.Output);
        Assert.Contains($"storage: folder {server.DataDirectory} ", server.Output);
        Assert.Contains("lock: local", server.Output);

        var created = await server.PostAsync("/db/execute", """["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)", ["INSERT INTO foo(name) VALUES(?)", "fiona"]]""");
        Assert.Equal("""{"results":[{},{"last_insert_id":1,"rows_affected":1}]}""", created);

        using var query = await server.Http.GetAsync("/db/query?q=SELECT%20*%20FROM%20foo&associative");
        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal("v8.0.0", query.Headers.GetValues("X-RQLITE-VERSION").Single());
        Assert.Equal("application/json", query.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"results":[{"types":{"id":"integer","name":"text"},"rows":[{"id":1,"name":"fiona"}]}]}""", await query.Content.ReadAsStringAsync());

        using var notFound = await server.Http.GetAsync("/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Contains("\"path\":\"/db/execute\"", server.Output);
    }

    [Fact]
    public async Task Each_database_is_a_complete_sqlite_file_in_the_data_folder()
    {
        await using var server = await LocalServerHandle.StartAsync();

        await server.PostAsync("/db/execute?db=inventory", """["CREATE TABLE t(a)", "INSERT INTO t VALUES ('stored')"]""");

        var file = Path.Combine(server.DataDirectory, "inventory.sqlite");
        using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = new SqliteCommand("SELECT a FROM t", connection);
        Assert.Equal("stored", command.ExecuteScalar());
        Assert.False(File.Exists(file + "-journal"));
        Assert.False(File.Exists(file + "-wal"));
    }

    [Fact]
    public async Task Reads_and_backups_of_a_database_that_does_not_exist_create_nothing_and_the_compressed_backup_gunzips()
    {
        await using var server = await LocalServerHandle.StartAsync();

        using var query = await server.Http.GetAsync("/db/query?db=ghost&q=SELECT%201");
        using var versions = await server.Http.GetAsync("/db/versions?db=ghost");
        var plain = await server.Http.GetByteArrayAsync("/db/backup?db=ghost");
        var compressed = await server.Http.GetByteArrayAsync("/db/backup?db=ghost&compress");

        Assert.Equal(HttpStatusCode.OK, query.StatusCode);
        Assert.Equal("""{"versions":[]}""", await versions.Content.ReadAsStringAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.DataDirectory, "ghost*", SearchOption.AllDirectories));
        // What gunzip needs: gzip's magic bytes, and a stream that decompresses to the plain backup.
        Assert.True(compressed.Length >= 18 && compressed[0] == 0x1f && compressed[1] == 0x8b, $"not a gzip stream: {Convert.ToHexString(compressed)}");
        using var gunzipped = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(new MemoryStream(compressed), System.IO.Compression.CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(gunzipped);
        }

        Assert.Equal(plain, gunzipped.ToArray());
    }

    [Fact]
    public async Task Twenty_parallel_writers_over_http_lose_no_increment()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute", """["CREATE TABLE counter (n INTEGER NOT NULL)", "INSERT INTO counter VALUES (0)"]""");

        var writers = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var response = await server.Http.PostAsync(
                "/db/execute", new StringContent("""["UPDATE counter SET n = n + 1"]""", Encoding.UTF8, "application/json"));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }));
        var answers = await Task.WhenAll(writers);

        Assert.All(answers, a => Assert.Equal((200, """{"results":[{"rows_affected":1}]}"""), a));
        using var final = await server.Http.GetAsync("/db/query?q=SELECT%20n%20FROM%20counter");
        Assert.Equal("""{"results":[{"columns":["n"],"types":["integer"],"values":[[20]]}]}""", await final.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readers_run_alongside_writers_and_see_whole_versions()
    {
        await using var server = await LocalServerHandle.StartAsync();
        await server.PostAsync("/db/execute", """["CREATE TABLE pairs (a INTEGER, b INTEGER)"]""");

        var writers = Enumerable.Range(1, 10).Select(i => server.PostAsync("/db/execute", $$"""[["INSERT INTO pairs VALUES (?, ?)", {{i}}, {{i}}], ["INSERT INTO pairs VALUES (?, ?)", {{-i}}, {{-i}}]]"""));
        var readers = Enumerable.Range(0, 20).Select(async _ =>
        {
            var body = await server.PostAsync("/db/query", """["SELECT COUNT(*), COALESCE(SUM(a), 0) FROM pairs"]""");
            var row = JsonDocument.Parse(body).RootElement.GetProperty("results")[0].GetProperty("values")[0];
            return (Count: row[0].GetInt32(), Sum: row[1].GetInt32());
        });
        await Task.WhenAll(writers);
        var seen = await Task.WhenAll(readers);

        // Each request is one commit: a reader sees both rows of a write or neither.
        Assert.All(seen, s => Assert.True(s.Count % 2 == 0 && s.Sum == 0, $"a reader saw {s.Count} rows summing to {s.Sum}"));
        var total = await server.PostAsync("/db/query", """["SELECT COUNT(*) FROM pairs"]""");
        Assert.Contains("[[20]]", total);
    }

    [Fact]
    public async Task A_result_full_of_quotes_travels_base64_encoded_and_arrives_decoded()
    {
        await using var server = await LocalServerHandle.StartAsync();

        // 2,000,000 quotes: a 4 MB body of \" that the handler sends base64-encoded to stay under Lambda's limit.
        var body = await server.PostAsync("/db/query", """["SELECT replace(hex(zeroblob(1000000)), '0', '\"') AS q"]""");

        var value = JsonDocument.Parse(body).RootElement.GetProperty("results")[0].GetProperty("values")[0][0].GetString();
        Assert.Equal(new string('"', 2_000_000), value);
    }

    [Theory]
    [InlineData("Content-Length: 20000000\r\n", 413, "Request body too large")]
    [InlineData("Transfer-Encoding: chunked\r\n", 400, "Bad chunk size data")]
    public async Task A_body_kestrel_refuses_gets_the_apis_error_answer_and_one_request_line(string framing, int status, string message)
    {
        await using var server = await LocalServerHandle.StartAsync();

        // A raw request: HttpClient would not send a body it declares larger than it is, nor a broken chunk.
        using var client = new TcpClient();
        await client.ConnectAsync(server.App.Url.Host, server.App.Url.Port);
        var stream = client.GetStream();
        var request = $"POST /db/execute HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{framing}\r\nzz\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(15));

        Assert.StartsWith($"HTTP/1.1 {status} ", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain; charset=utf-8\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("X-RQLITE-VERSION: v8.0.0\r\n", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Access-Control-Allow-Origin: *\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\n" + message, answer, StringComparison.Ordinal);
        var line = Assert.Single(server.Output.Split('\n'), l => l.Contains("\"status\":" + status, StringComparison.Ordinal));
        using var logged = JsonDocument.Parse(line);
        Assert.Equal("info", logged.RootElement.GetProperty("level").GetString());
        Assert.Equal("request", logged.RootElement.GetProperty("message").GetString());
        Assert.StartsWith(message, logged.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_already_taken_fails_the_start_with_a_one_line_message()
    {
        await using var first = await LocalServerHandle.StartAsync();
        var data = Directory.CreateTempSubdirectory("serverlessdb-local-data-").FullName;
        try
        {
            var error = await Assert.ThrowsAsync<LocalServerStartException>(() => LocalServerApp.StartAsync(
                new LocalServerSettings { Port = first.App.Url.Port, DataDirectory = data },
                new ServerlessDb.Configuration.DictionaryEnvironment(new Dictionary<string, string?>()),
                TextWriter.Null,
                TextWriter.Null));

            Assert.Equal($"Port {first.App.Url.Port} on 127.0.0.1 is already in use: stop what is listening there or choose another port with --port.", error.Message);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task S3_storage_without_a_bucket_fails_the_start_naming_DB_BUCKET()
    {
        var error = await Assert.ThrowsAsync<LocalServerStartException>(() => LocalServerApp.StartAsync(
            new LocalServerSettings { Port = 0, S3Endpoint = new Uri("http://127.0.0.1:9") },
            new ServerlessDb.Configuration.DictionaryEnvironment(new Dictionary<string, string?>()),
            TextWriter.Null,
            TextWriter.Null));

        Assert.StartsWith("Invalid configuration: DB_BUCKET is required when storage is S3", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
