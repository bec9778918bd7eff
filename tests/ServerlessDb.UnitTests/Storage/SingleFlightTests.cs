using ServerlessDb.Storage;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>One run at a time, joined by every caller who asks while it runs; a finished run, failed or not, is not kept.</summary>
public sealed class SingleFlightTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Concurrent_callers_join_one_run_and_only_the_first_started_it()
    {
        var flight = new SingleFlight<int>();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<int> Run()
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        }

        var first = flight.RunOrJoinAsync(Run, CancellationToken.None);
        var others = Enumerable.Range(0, 8).Select(_ => flight.RunOrJoinAsync(Run, CancellationToken.None)).ToList();
        release.SetResult(42);
        var results = await Task.WhenAll(others.Prepend(first)).WaitAsync(Patience);

        Assert.Equal(1, runs);
        Assert.All(results, result => Assert.Equal(42, result.Result));
        Assert.True(results[0].Started);
        Assert.All(results.Skip(1), result => Assert.False(result.Started));
    }

    [Fact]
    public async Task A_failure_reaches_every_joiner_and_the_next_call_runs_again()
    {
        var flight = new SingleFlight<int>();
        var failing = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<int> Fail()
        {
            Interlocked.Increment(ref runs);
            return failing.Task;
        }

        var joiners = Enumerable.Range(0, 4).Select(_ => flight.RunOrJoinAsync(Fail, CancellationToken.None)).ToList();
        failing.SetException(new IOException("the bucket is down"));
        foreach (var joiner in joiners)
        {
            var error = await Assert.ThrowsAsync<IOException>(() => joiner.WaitAsync(Patience));
            Assert.Equal("the bucket is down", error.Message);
        }

        var next = await flight.RunOrJoinAsync(() => Task.FromResult(7), CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(1, runs);
        Assert.Equal((7, true), next);
    }

    [Fact]
    public async Task A_finished_run_is_not_kept_so_the_next_call_runs_again()
    {
        var flight = new SingleFlight<int>();
        var runs = 0;
        Task<int> Run() => Task.FromResult(Interlocked.Increment(ref runs));

        var first = await flight.RunOrJoinAsync(Run, CancellationToken.None).WaitAsync(Patience);
        var second = await flight.RunOrJoinAsync(Run, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal((1, true), first);
        Assert.Equal((2, true), second);
    }

    [Fact]
    public async Task A_joiner_that_gives_up_does_not_cancel_the_run_for_the_others()
    {
        var flight = new SingleFlight<int>();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<int> Run()
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        }

        using var impatient = new CancellationTokenSource();
        var givesUp = flight.RunOrJoinAsync(Run, impatient.Token);
        var waits = flight.RunOrJoinAsync(Run, CancellationToken.None);
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givesUp.WaitAsync(Patience));

        Assert.False(waits.IsCompleted);
        var joinedLater = flight.RunOrJoinAsync(Run, CancellationToken.None);
        release.SetResult(5);

        Assert.Equal((5, false), await waits.WaitAsync(Patience));
        Assert.Equal((5, false), await joinedLater.WaitAsync(Patience));
        Assert.Equal(1, runs);
    }
}
