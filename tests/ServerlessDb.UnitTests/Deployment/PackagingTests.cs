using System.Diagnostics;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Deployment;

/// <summary>
/// The Lambda packages are published for the function's runtime identifier (sam build passes linux-arm64),
/// and then precompiled (ReadyToRun), which spares a cold container most of its JIT work. A plain build for
/// the tests stays as it is.
/// </summary>
public sealed class PackagingTests
{
    [Theory]
    [InlineData("src/QueryRunner/QueryRunner.csproj")]
    [InlineData("src/LockReaper/LockReaper.csproj")]
    public async Task A_lambda_package_published_for_a_runtime_is_precompiled(string project)
    {
        Assert.Equal("true", await PropertyAsync(project, "PublishReadyToRun", "-p:RuntimeIdentifier=linux-arm64"));
        Assert.Equal(string.Empty, await PropertyAsync(project, "PublishReadyToRun"));
    }

    private static async Task<string> PropertyAsync(string project, string property, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet", ["msbuild", RepositoryRoot.PathOf(project), $"-getProperty:{property}", "-nologo", .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet msbuild {project} failed: {output}{errors}");
        return output.Trim();
    }
}
