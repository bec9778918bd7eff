namespace ServerlessDb.UnitTests.Support;

/// <summary>The checkout the tests run from, for tests that hold the code to its documents (README, docs/, template.yaml).</summary>
internal static class Repository
{
    public static string Root()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ServerlessDb.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no directory above {AppContext.BaseDirectory} holds ServerlessDb.sln.");
    }
}
