namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>The torture test's keyed increments, counted across its clients: started, answered 200, and attempts sent.</summary>
internal sealed class LogicalIncrements
{
    private int _started;
    private int _answered200;
    private int _attempts;

    public int Started => Volatile.Read(ref _started);

    public int Answered200 => Volatile.Read(ref _answered200);

    public int Attempts => Volatile.Read(ref _attempts);

    public void Start() => Interlocked.Increment(ref _started);

    public void Answer200() => Interlocked.Increment(ref _answered200);

    public void Attempt() => Interlocked.Increment(ref _attempts);
}
