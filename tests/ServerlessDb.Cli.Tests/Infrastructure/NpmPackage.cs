namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>npm packages the tests run, each installed once into a cache folder under the temp folder (atomically, so concurrent runs never see half an install).</summary>
public static class NpmPackage
{
    /// <summary>rqlite-js 2.5.7, in the folder the integration tests use too; its compiled code requires @babel/runtime, which its package.json no longer lists.</summary>
    public static Task<string> InstallRqliteJsAsync() =>
        InstallAsync("serverlessdb-rqlite-js-2.5.7-babel-7.26.10", "rqlite-js", ["rqlite-js@2.5.7", "@babel/runtime@7.26.10"]);

    public static Task<string> InstallAsync(string package, string version) =>
        InstallAsync($"serverlessdb-{package}-{version}", package, [$"{package}@{version}"]);

    /// <returns>the node_modules folder to put on NODE_PATH.</returns>
    private static async Task<string> InstallAsync(string cacheName, string package, string[] specs)
    {
        var cache = Path.Combine(Path.GetTempPath(), cacheName);
        var nodeModules = Path.Combine(cache, "node_modules");
        if (File.Exists(Path.Combine(nodeModules, package, "package.json")))
        {
            return nodeModules;
        }

        var staging = $"{cache}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            using var npm = ChildProcess.Start(
                "npm",
                ["install", "--no-audit", "--no-fund", "--prefix", staging, .. specs],
                "npm on PATH (apt-get install npm) and the npm registry");
            var exit = await npm.WaitForExitAsync(TimeSpan.FromSeconds(180));
            Assert.True(exit == 0, $"npm install {string.Join(' ', specs)} failed (exit {exit}).\n{npm.Stdout}\n{npm.Stderr}");
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
