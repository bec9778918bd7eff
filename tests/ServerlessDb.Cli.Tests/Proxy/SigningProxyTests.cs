using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Proxy;

/// <summary>
/// <c>serverlessdb proxy</c> in front of a stand-in for API Gateway's IAM check (botocore verifies every
/// signature) in front of a real local server: clients that cannot sign get through, bad signatures do not,
/// bodies pass both ways whole, and nothing is followed for the client.
/// </summary>
public sealed class SigningProxyTests(SignedApiFixture fixture) : IClassFixture<SignedApiFixture>
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task An_unsigned_client_gets_through_the_proxy_and_without_it_is_refused()
    {
        var db = LocalServerFixture.NewDatabase();
        using var direct = await Http.PostAsync($"{fixture.SignedApi}/db/execute?db={db}", Json("""["CREATE TABLE t (a)"]"""));
        using var proxied = await Http.PostAsync($"{fixture.Proxy}/db/execute?db={db}", Json("""["CREATE TABLE t (a)", ["INSERT INTO t VALUES (?)", "x y+z"]]"""));
        using var read = await Http.GetAsync($"{fixture.Proxy}/db/query?db={db}&q=SELECT+a+FROM+t+WHERE+a+%3D+'x%20y%2Bz'");

        Assert.Equal(HttpStatusCode.Forbidden, direct.StatusCode);
        Assert.Equal("""{"message": "Missing Authentication Token"}""", await direct.Content.ReadAsStringAsync());
        Assert.True(proxied.StatusCode == HttpStatusCode.OK, await proxied.Content.ReadAsStringAsync() + fixture.StandInLog);
        Assert.Equal("""{"results":[{"columns":["a"],"types":["text"],"values":[["x y+z"]]}]}""", await read.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_chunked_request_body_of_unknown_length_is_spooled_hashed_and_signed()
    {
        var db = LocalServerFixture.NewDatabase();
        var body = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("""["CREATE TABLE t (a)", ["INSERT INTO t VALUES (?)", "chunked"]]""")));
        body.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{fixture.Proxy}/db/execute?db={db}") { Content = body };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Http.SendAsync(request);
        var read = await Http.GetStringAsync($"{fixture.Proxy}/db/query?db={db}&q=SELECT%20a%20FROM%20t");

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Contains("""[["chunked"]]""", read);
    }

    [Fact]
    public async Task A_proxy_signing_with_the_wrong_secret_hands_the_clients_the_403()
    {
        var (process, url) = await SignedApiFixture.StartProxyAsync(fixture.SignedApi, TestCredentials.Environment(secretKey: "not-the-secret"));
        using (process)
        {
            using var response = await Http.PostAsync($"{url}/db/query", Json("""["SELECT 1"]"""));

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("signature we calculated does not match", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task The_stand_in_refuses_a_signed_request_whose_body_is_not_the_one_signed()
    {
        var credentials = new Amazon.Runtime.SessionAWSCredentials(TestCredentials.AccessKey, TestCredentials.SecretKey, TestCredentials.SessionToken);
        var signer = new global::Cli.Api.RequestSigner(credentials, Amazon.RegionEndpoint.GetBySystemName(TestCredentials.Region), TimeProvider.System);
        var signedBody = Encoding.UTF8.GetBytes("""["SELECT 1"]""");

        async Task<HttpResponseMessage> SendAsync(string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{fixture.SignedApi}/db/query") { Content = Json(body) };
            await signer.SignAsync(request, Convert.ToHexStringLower(SHA256.HashData(signedBody)), CancellationToken.None);
            return await Http.SendAsync(request);
        }

        using var honest = await SendAsync("""["SELECT 1"]""");
        using var tampered = await SendAsync("""["SELECT 2"]""");

        Assert.Equal(HttpStatusCode.OK, honest.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.Contains("x-amz-content-sha256 header does not match", await tampered.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_cli_signs_for_the_deployed_api_itself_and_a_refused_signature_exits_3()
    {
        var db = LocalServerFixture.NewDatabase();
        var signed = await CliRun.RunAsync(["--url", fixture.SignedApi, "--sign", "always", "-d", db, "execute", "CREATE TABLE t (a)"], environment: TestCredentials.Environment());
        var refused = await CliRun.RunAsync(["--url", fixture.SignedApi, "--sign", "always", "-d", db, "query", "SELECT 1"], environment: TestCredentials.Environment(secretKey: "wrong"));
        var unsigned = await CliRun.RunAsync(["--url", fixture.SignedApi, "--sign", "never", "query", "SELECT 1"]);

        Assert.True(signed.ExitCode == 0, signed + fixture.StandInLog);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("refused the request (403: The request signature we calculated does not match", refused.Stderr);
        Assert.Equal(3, unsigned.ExitCode);
        Assert.Contains("Missing Authentication Token", unsigned.Stderr);
    }

    [Fact]
    public async Task Five_megabytes_pass_through_the_proxy_both_ways_as_a_backup_and_a_load()
    {
        var source = LocalServerFixture.NewDatabase();
        var copy = LocalServerFixture.NewDatabase();
        var created = await CliRun.RunAsync(
            ["--url", fixture.Proxy, "-d", source, "execute", "-"],
            "CREATE TABLE big (b BLOB); INSERT INTO big SELECT randomblob(1000000) FROM generate_series(1, 5);");
        if (created.ExitCode != 0)
        {
            // generate_series is not in every SQLite build: eight inserts instead.
            created = await CliRun.RunAsync(
                ["--url", fixture.Proxy, "-d", source, "execute", "-"],
                "CREATE TABLE IF NOT EXISTS big (b BLOB);" + string.Concat(Enumerable.Repeat("INSERT INTO big VALUES (randomblob(1000000));", 5)));
        }

        Assert.True(created.ExitCode == 0, created.ToString());
        var backup = await Http.GetByteArrayAsync($"{fixture.Proxy}/db/backup?db={source}");
        using var load = await Http.PostAsync($"{fixture.Proxy}/db/load?db={copy}", new ByteArrayContent(backup) { Headers = { ContentType = new("application/octet-stream") } });
        var reloaded = await Http.GetByteArrayAsync($"{fixture.Proxy}/db/backup?db={copy}");

        Assert.True(backup.Length > 5_000_000, $"the backup has {backup.Length} bytes");
        Assert.True(load.StatusCode == HttpStatusCode.OK, await load.Content.ReadAsStringAsync());
        Assert.Equal(SHA256.HashData(backup), SHA256.HashData(reloaded));
    }

    [Fact]
    public async Task The_cli_loads_a_file_larger_than_an_inline_load_signed_falling_back_inline_where_there_is_no_staging()
    {
        var source = LocalServerFixture.NewDatabase();
        var copy = LocalServerFixture.NewDatabase();
        var environment = TestCredentials.Environment();
        var signed = new[] { "--url", fixture.SignedApi, "--sign", "always" };
        await CliRun.RunAsync([.. signed, "-d", source, "execute", "-"], "CREATE TABLE big (b BLOB);" + string.Concat(Enumerable.Repeat("INSERT INTO big VALUES (randomblob(1000000));", 5)), environment);
        var folder = Directory.CreateTempSubdirectory("serverlessdb-cli-load-").FullName;
        try
        {
            var file = Path.Combine(folder, "big.sqlite");
            var backup = await CliRun.RunAsync([.. signed, "-d", source, "backup", "-o", file], environment: environment);
            var load = await CliRun.RunAsync([.. signed, "-d", copy, "load", file], environment: environment);
            var count = await CliRun.RunAsync([.. signed, "-d", copy, "query", "SELECT count(*) AS n FROM big", "--mode", "csv"], environment: environment);

            Assert.True(backup.ExitCode == 0, backup.ToString());
            Assert.True(new FileInfo(file).Length > 4 * 1024 * 1024, $"the file has {new FileInfo(file).Length} bytes");
            Assert.True(load.ExitCode == 0, load + fixture.StandInLog);
            Assert.Equal("n\n5\n", count.Stdout);
            Assert.Contains("POST /db/load/upload?db=" + copy, fixture.StandInLog);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_redirect_reaches_the_client_as_it_is_and_is_not_followed()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var upstream = builder.Build();
        var followed = 0;
        upstream.Run(context =>
        {
            if (context.Request.Path == "/presigned")
            {
                Interlocked.Increment(ref followed);
            }

            context.Response.StatusCode = 307;
            context.Response.Headers.Location = "http://127.0.0.1:9/presigned?X-Amz-Signature=abc";
            return Task.CompletedTask;
        });
        await upstream.StartAsync();
        var (process, url) = await SignedApiFixture.StartProxyAsync(upstream.Urls.First(), [], sign: "never");
        using (process)
        {
            using var response = await Http.GetAsync($"{url}/db/backup?db=big");

            Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
            Assert.Equal("http://127.0.0.1:9/presigned?X-Amz-Signature=abc", response.Headers.Location!.OriginalString);
            Assert.Equal(0, followed);
        }
    }

    [Fact]
    public async Task Status_names_the_proxy_as_the_node_to_talk_to()
    {
        var proxy = new Uri(fixture.Proxy);

        var status = await Http.GetStringAsync($"{fixture.Proxy}/status");

        Assert.Contains(proxy.Authority, status);
        Assert.DoesNotContain(new Uri(fixture.SignedApi).Authority, status);
    }

    [Fact]
    public async Task The_proxy_refuses_to_listen_beyond_this_machine_unless_told_what_that_exposes()
    {
        var result = await CliRun.RunAsync(["proxy", "--listen", "0.0.0.0", "--port", "0", "--url", fixture.SignedApi]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Refusing to listen on 0.0.0.0", result.Stderr);
        Assert.Contains("--expose-unauthenticated", result.Stderr);
    }

    [Fact]
    public async Task A_proxy_that_would_forward_to_its_own_address_says_to_name_the_api()
    {
        var result = await CliRun.RunAsync(["proxy"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("would forward to http://127.0.0.1:4001/, where it listens itself: name the deployed API with --url or --stack", result.Stderr);
    }

    [Fact]
    public async Task Rqlite_js_runs_unchanged_through_the_proxy_against_the_signed_api()
    {
        var nodeModules = await NpmPackage.InstallRqliteJsAsync();
        var script = Path.Combine(AppContext.BaseDirectory, "Scripts", "rqlite-js-compat.js");

        var result = ChildProcess.Start("node", [script, fixture.Proxy], "node 18+ on PATH", new Dictionary<string, string?> { ["NODE_PATH"] = nodeModules });
        using (result)
        {
            var exit = await result.WaitForExitAsync(TimeSpan.FromSeconds(90));

            Assert.True(exit == 0, $"rqlite-js through the proxy failed (exit {exit}).\nstdout:\n{result.Stdout}\nstderr:\n{result.Stderr}\nproxy:\n{fixture.ProxyLog}");
            Assert.Contains("all steps passed", result.Stdout);
            Assert.Contains("ok - write sent to /db/query is refused", result.Stdout);
        }

        Assert.DoesNotContain("-> 403", fixture.ProxyLog);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
