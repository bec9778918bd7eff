namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>The system clock read <paramref name="offset"/> ahead: lets a reaper judge a lock taken a moment ago as old, without waiting.</summary>
public sealed class ShiftedClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
}
