using ServerlessDb.IntegrationTests.Infrastructure;

namespace ServerlessDb.IntegrationTests.LocalServer;

/// <summary>
/// rqlite compatibility against a real client: rqlite-js from npm runs rqlite-js/compat.js against a
/// local server. Needs node and npm on PATH; without them the test fails saying so. The npm install is
/// cached under the system temp folder, so reruns do not download again.
/// </summary>
public sealed class LocalServerRqliteJsTests
{
    private const string RqliteJsVersion = "2.5.7";

    // rqlite-js 2.5.7's compiled code requires @babel/runtime but its package.json no longer lists
    // it (2.5.5 did), so anyone using 2.5.7 installs it beside; the 7.x line is what it was built with.
    private const string BabelRuntimeVersion = "7.26.10";
    private static readonly TimeSpan InstallDeadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ScriptDeadline = TimeSpan.FromSeconds(60);

    private static readonly string[] Steps =
    [
        "create table", "plain insert", "parameterized inserts", "select", "parameterized select", "update", "delete",
        "failing transaction rolls back", "statement error", "write sent to /db/query is refused",
    ];

    [Fact]
    public async Task Rqlite_js_gets_the_answers_rqlite_gives()
    {
        var nodeModules = await InstallRqliteJsAsync();
        await using var server = await LocalServerHandle.StartAsync();
        var script = Path.Combine(AppContext.BaseDirectory, "rqlite-js", "compat.js");

        var (exitCode, stdout, stderr) = await RunAsync(
            "node", [script, server.App.Url.ToString().TrimEnd('/')], ScriptDeadline, new Dictionary<string, string> { ["NODE_PATH"] = nodeModules });

        Assert.True(exitCode == 0, $"compat.js failed (exit {exitCode}).\nstdout:\n{stdout}\nstderr:\n{stderr}");
        foreach (var step in Steps)
        {
            Assert.Contains($"ok - {step}\n", stdout);
        }

        Assert.Contains("all steps passed", stdout);
    }

    /// <summary>Installs rqlite-js once into a cache folder (atomically, so concurrent runs cannot see half an install) and returns its node_modules.</summary>
    private static async Task<string> InstallRqliteJsAsync()
    {
        var cache = Path.Combine(Path.GetTempPath(), $"serverlessdb-rqlite-js-{RqliteJsVersion}-babel-{BabelRuntimeVersion}");
        var nodeModules = Path.Combine(cache, "node_modules");
        if (File.Exists(Path.Combine(nodeModules, "rqlite-js", "package.json")))
        {
            return nodeModules;
        }

        var staging = $"{cache}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            var (exitCode, stdout, stderr) = await RunAsync(
                "npm",
                ["install", "--no-audit", "--no-fund", "--prefix", staging, $"rqlite-js@{RqliteJsVersion}", $"@babel/runtime@{BabelRuntimeVersion}"],
                InstallDeadline,
                new Dictionary<string, string>());
            Assert.True(exitCode == 0, $"npm install rqlite-js@{RqliteJsVersion} failed (exit {exitCode}).\nstdout:\n{stdout}\nstderr:\n{stderr}");

            try
            {
                Directory.Move(staging, cache);
            }
            catch (IOException) when (Directory.Exists(nodeModules))
            {
                // Another run finished its install first; use that one.
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        return nodeModules;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string tool, IReadOnlyList<string> arguments, TimeSpan deadline, IReadOnlyDictionary<string, string> environment) =>
        ExternalTool.RunAsync(tool, arguments, deadline, "node 18+ and npm on PATH (for example: apt-get install nodejs npm)", environment);
}
