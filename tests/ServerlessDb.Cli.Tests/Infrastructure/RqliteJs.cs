namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>rqlite-js from npm, installed once into the same cache folder the integration tests use (atomically), for the proxy test.</summary>
public static class RqliteJs
{
    private const string Version = "2.5.7";

    // rqlite-js 2.5.7's compiled code requires @babel/runtime, which its package.json no longer lists.
    private const string BabelRuntimeVersion = "7.26.10";

    public static async Task<string> InstallAsync()
    {
        var cache = Path.Combine(Path.GetTempPath(), $"serverlessdb-rqlite-js-{Version}-babel-{BabelRuntimeVersion}");
        var nodeModules = Path.Combine(cache, "node_modules");
        if (File.Exists(Path.Combine(nodeModules, "rqlite-js", "package.json")))
        {
            return nodeModules;
        }

        var staging = $"{cache}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            using var npm = ChildProcess.Start(
                "npm",
                ["install", "--no-audit", "--no-fund", "--prefix", staging, $"rqlite-js@{Version}", $"@babel/runtime@{BabelRuntimeVersion}"],
                "npm on PATH (apt-get install npm) and the npm registry");
            var exit = await npm.WaitForExitAsync(TimeSpan.FromSeconds(180));
            Assert.True(exit == 0, $"npm install rqlite-js@{Version} failed (exit {exit}).\n{npm.Stdout}\n{npm.Stderr}");
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
}
