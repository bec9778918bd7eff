namespace ServerlessDb.Cli.Tests.Infrastructure;

/// <summary>One local server process for a test class; each test uses databases of its own.</summary>
public sealed class LocalServerFixture : IAsyncLifetime
{
    private LocalServerProcess? _server;

    public LocalServerProcess Server => _server ?? throw new InvalidOperationException("the fixture has not started");

    public async Task InitializeAsync() => _server = await LocalServerProcess.StartAsync();

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs the tool against this server on <paramref name="database"/>.</summary>
    public Task<CliRun.Result> RunAsync(string database, params string[] arguments) =>
        CliRun.RunAsync(["--url", Server.Address, "--db", database, .. arguments]);

    public Task<CliRun.Result> ShellAsync(string database, string script, params string[] arguments) =>
        CliRun.RunAsync(["--url", Server.Address, "--db", database, .. arguments], script);

    public static string NewDatabase() => "t" + Guid.NewGuid().ToString("N")[..12];
}
