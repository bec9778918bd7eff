namespace ServerlessDb.Storage;

/// <summary>
/// At most one run of an operation at a time: a caller who asks while one runs joins it instead of starting another.
/// A finished run, whether it succeeded or failed, is not kept: the next caller starts a new one. The run goes on
/// by itself, so a joiner that stops waiting (its cancellation) does not cancel it for the others.
/// </summary>
internal sealed class SingleFlight<T>
{
    private readonly Lock _gate = new();
    private Task<T>? _running;

    /// <summary>
    /// The result of the run under way, or of <paramref name="run"/> started now when none is, and whether this call
    /// started it. <paramref name="cancellationToken"/> stops only this caller's wait.
    /// </summary>
    public async Task<(T Result, bool Started)> RunOrJoinAsync(Func<Task<T>> run, CancellationToken cancellationToken)
    {
        var (running, started) = Join(run);
        return (await running.WaitAsync(cancellationToken), started);
    }

    private (Task<T> Running, bool Started) Join(Func<Task<T>> run)
    {
        lock (_gate)
        {
            if (_running is { } running)
            {
                return (running, false);
            }

            // Task.Run: the operation must not run (and finish) inline while this lock is held, or it would clear
            // _running before it is set.
            Task<T>? started = null;
            started = Task.Run(async () =>
            {
                try
                {
                    return await run();
                }
                finally
                {
                    lock (_gate)
                    {
                        if (_running == started)
                        {
                            _running = null;
                        }
                    }
                }
            });
            _running = started;
            return (started, true);
        }
    }
}
