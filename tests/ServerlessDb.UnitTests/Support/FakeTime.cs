using Microsoft.Extensions.Time.Testing;

namespace ServerlessDb.UnitTests.Support;

/// <summary>
/// Moves a <see cref="FakeTimeProvider"/> for code that waits on its timers (backoffs, deadlines, pacing):
/// a step at a time, with a short real pause after each so that the continuations the step released run
/// before the next. The code's waits then end in fake time, which a slow machine cannot stretch.
/// </summary>
public static class FakeTime
{
    private static readonly TimeSpan RealPause = TimeSpan.FromMilliseconds(2);

    /// <summary>Advances <paramref name="time"/> by <paramref name="by"/> in steps of <paramref name="step"/>, whatever runs meanwhile.</summary>
    public static async Task AdvanceAsync(this FakeTimeProvider time, TimeSpan by, TimeSpan step)
    {
        var end = time.GetUtcNow() + by;
        while (time.GetUtcNow() < end)
        {
            var left = end - time.GetUtcNow();
            time.Advance(left < step ? left : step);
            await Task.Delay(RealPause);
        }
    }

    /// <summary>
    /// Advances <paramref name="time"/> in steps of <paramref name="step"/> until <paramref name="work"/> ends, and returns it;
    /// a <see cref="TimeoutException"/> after <see cref="Bounded.DefaultBound"/> of real time, so a hang fails the test.
    /// </summary>
    public static async Task<T> RunAsync<T>(this FakeTimeProvider time, Task<T> work, TimeSpan step)
    {
        await RunAsync(time, (Task)work, step);
        return await work;
    }

    /// <inheritdoc cref="RunAsync{T}(FakeTimeProvider, Task{T}, TimeSpan)"/>
    public static async Task RunAsync(this FakeTimeProvider time, Task work, TimeSpan step)
    {
        var bound = Task.Delay(Bounded.DefaultBound);
        while (!work.IsCompleted)
        {
            if (bound.IsCompleted)
            {
                throw new TimeoutException($"did not finish within {Bounded.DefaultBound.TotalSeconds:0} s of real time, at {time.GetUtcNow():O} of fake time");
            }

            await Task.WhenAny(work, Task.Delay(RealPause));
            if (!work.IsCompleted)
            {
                time.Advance(step);
            }
        }

        await work;
    }
}
