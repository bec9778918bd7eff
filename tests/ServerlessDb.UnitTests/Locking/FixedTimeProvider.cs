namespace ServerlessDb.UnitTests.Locking;

/// <summary>A clock that always reads the same instant (timers still run in real time).</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
