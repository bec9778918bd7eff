using Microsoft.Extensions.Hosting;

namespace LocalServer;

/// <summary>
/// A host lifetime that listens to no signals: <see cref="LocalServerApp"/> decides when to stop (the
/// command line on Ctrl+C, a test when it is done), and several servers may run in one test process.
/// </summary>
internal sealed class ManualHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
