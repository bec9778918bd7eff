namespace ServerlessDb.UnitTests.Storage;

/// <summary>The system clock, moved forward on demand (timers still run in real time).</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _offset;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, (long)(by.TotalSeconds * TimestampFrequency));

    public override long GetTimestamp() => base.GetTimestamp() + Interlocked.Read(ref _offset);
}
