namespace ServerlessDb.UnitTests.Support;

/// <summary>The checkout the tests run from, for tests that hold its files (template.yaml, README.md) to the code.</summary>
internal static class RepositoryRoot
{
    /// <summary>The nearest folder above the test binaries that holds both template.yaml and ServerlessDb.sln.</summary>
    public static string Folder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "template.yaml")) && File.Exists(Path.Combine(directory.FullName, "ServerlessDb.sln")))
            {
                return directory.FullName;
            }
        }

        throw new Xunit.Sdk.XunitException($"no directory above {AppContext.BaseDirectory} holds both template.yaml and ServerlessDb.sln.");
    }

    /// <summary>The path of <paramref name="relativePath"/> in the checkout.</summary>
    public static string PathOf(string relativePath) => Path.Combine(Folder(), relativePath);
}
