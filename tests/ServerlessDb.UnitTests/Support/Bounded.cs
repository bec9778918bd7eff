namespace ServerlessDb.UnitTests.Support;

/// <summary>Runs work that must terminate: a hang fails the test instead of hanging the run.</summary>
public static class Bounded
{
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(10);

    /// <summary>Returns once <paramref name="condition"/> holds, looking every 10 ms; a <see cref="TimeoutException"/> after <see cref="DefaultBound"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var bound = Task.Delay(DefaultBound);
        while (!condition())
        {
            if (bound.IsCompleted)
            {
                throw new TimeoutException($"not true within {DefaultBound.TotalSeconds:0} s: {what}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }
    }

    public static T Run<T>(Func<T> work, string what)
    {
        var task = Task.Run(work);
        try
        {
            return task.Wait(DefaultBound)
                ? task.Result
                : throw new TimeoutException($"did not finish within {DefaultBound.TotalSeconds:0} s: {what}");
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }
}
