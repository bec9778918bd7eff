using System.Net;
using ServerlessDb.Cli.Tests.Infrastructure;

namespace ServerlessDb.Cli.Tests.Console;

/// <summary>
/// The web console in a real browser (Debian's chromium, driven by playwright-core from npm), served by a real
/// local server: run a query and see rows, open the timeline, query a past version, download it, restore it.
/// Each page's screenshot goes to a temporary folder, or with SERVERLESSDB_SCREENSHOTS=docs/console to the docs.
/// </summary>
public sealed class ConsoleBrowserTests
{
    private const string PlaywrightVersion = "1.65.1";

    [Fact]
    public async Task A_person_queries_looks_at_the_history_queries_a_past_version_and_restores_it()
    {
        var nodeModules = await NpmPackage.InstallAsync("playwright-core", PlaywrightVersion);
        using var server = await LocalServerProcess.StartAsync();
        var screenshots = Environment.GetEnvironmentVariable("SERVERLESSDB_SCREENSHOTS") is { Length: > 0 } folder
            ? Path.GetFullPath(folder)
            : Directory.CreateTempSubdirectory("serverlessdb-console-").FullName;
        Directory.CreateDirectory(screenshots);
        var script = Path.Combine(AppContext.BaseDirectory, "Scripts", "console-browser-test.js");

        using var browser = ChildProcess.Start(
            "node",
            [script, $"{server.Address}/console/", "shop", screenshots],
            "node 18+ and Debian's chromium (apt-get install chromium)",
            new Dictionary<string, string?> { ["NODE_PATH"] = nodeModules });
        var exit = await browser.WaitForExitAsync(TimeSpan.FromSeconds(150));

        Assert.True(exit == 0, $"the console test failed (exit {exit}).\nstdout:\n{browser.Stdout}\nstderr:\n{browser.Stderr}\nserver:\n{server.Output}");
        Assert.Contains("all steps passed", browser.Stdout);
        foreach (var page in new[] { "query", "history", "past-version", "restore" })
        {
            var png = await File.ReadAllBytesAsync(Path.Combine(screenshots, page + ".png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        }
    }

    [Fact]
    public async Task Serverlessdb_console_prints_the_page_to_open_and_serves_it()
    {
        using var server = await LocalServerProcess.StartAsync();
        using var console = ChildProcess.Start("dotnet", [CliRun.Dll, "console", "--url", server.Address, "--port", "0", "--no-open"], "the .NET SDK", CliRun.CleanEnvironment());
        var line = await console.WaitForLineAsync("console: ", TimeSpan.FromSeconds(60));
        using var http = new HttpClient();

        var page = await http.GetStringAsync(line["console: ".Length..]);

        Assert.Matches(@"^console: http://127\.0\.0\.1:\d+/console/$", line);
        Assert.Contains("serverlessdb console listening on http://127.0.0.1:", console.Stdout);
        Assert.Contains("<title>ServerlessDb console</title>", page);
    }

    [Fact]
    public async Task The_console_is_served_by_the_local_server_and_by_the_proxy_with_a_policy_that_keeps_it_on_its_origin()
    {
        using var server = await LocalServerProcess.StartAsync();
        var (proxy, proxyUrl) = await SignedApiFixture.StartProxyAsync(server.Address, [], sign: "never");
        Assert.Contains($"console: {server.Address}/console/\n", server.Output);
        using (proxy)
        {
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
            foreach (var origin in new[] { server.Address, proxyUrl })
            {
                using var page = await http.GetAsync($"{origin}/console/");
                using var script = await http.GetAsync($"{origin}/console/console.js");
                using var bare = await http.GetAsync($"{origin}/console");
                using var missing = await http.GetAsync($"{origin}/console/nope.js");

                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
                Assert.Contains("<title>ServerlessDb console</title>", await page.Content.ReadAsStringAsync());
                Assert.Contains("connect-src 'self'", string.Join(";", page.Headers.GetValues("Content-Security-Policy")));
                Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
                Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            }
        }
    }
}
