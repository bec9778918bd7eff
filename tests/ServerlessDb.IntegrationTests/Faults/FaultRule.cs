namespace ServerlessDb.IntegrationTests.Faults;

/// <summary>
/// One scripted fault of the <see cref="FaultProxy"/>: which requests it matches (an S3 operation by
/// method and path, or an EC2 Action), which of those it acts on (<see cref="FaultTimes"/>), and what it does.
/// </summary>
public sealed class FaultRule
{
    private readonly Func<ProxiedRequest, bool> _matches;
    private readonly FaultTimes _times;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _acted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _matched;
    private int _fired;

    private FaultRule(string name, Func<ProxiedRequest, bool> matches, FaultKind kind, FaultTimes times)
    {
        Name = name;
        _matches = matches;
        Kind = kind;
        _times = times;
    }

    public string Name { get; }

    public FaultKind Kind { get; }

    /// <summary>With <see cref="FaultKind.S3Error"/>: the HTTP status.</summary>
    public int Status { get; private init; }

    /// <summary>With <see cref="FaultKind.S3Error"/>: S3's error code (InternalError, SlowDown).</summary>
    public string Code { get; private init; } = "";

    /// <summary>With <see cref="FaultKind.DelayAnswer"/>: how long the answer waits after moto gave it.</summary>
    public TimeSpan Delay { get; private init; }

    /// <summary>How many times this rule acted.</summary>
    public int Fired
    {
        get
        {
            lock (_gate)
            {
                return _fired;
            }
        }
    }

    /// <summary>
    /// Completes the first time this rule acted: for a fault that forwards (<see cref="FaultKind.DropAnswer"/>,
    /// <see cref="FaultKind.DelayAnswer"/>), once moto has answered, so the request has landed and its answer is held or lost.
    /// </summary>
    public Task Acted => _acted.Task;

    /// <summary>An S3 request: <paramref name="method"/> (GET, HEAD, PUT) on the path <c>/bucket/key</c>; null matches any path.</summary>
    public static Func<ProxiedRequest, bool> S3(string method, string? path = null) =>
        r => r.Ec2Action is null && r.Method == method && (path is null || r.Path == path);

    /// <summary>
    /// A ranged S3 GET with an end (<c>Range: bytes=a-b</c>) under <c>/bucket/</c><paramref name="keyPrefix"/>: a lazy read's fetch
    /// of a window of a whole file or of a chunk, not a whole-object download (which asks <c>bytes=0-</c>).
    /// </summary>
    public static Func<ProxiedRequest, bool> RangedGet(string bucket, string keyPrefix = "") =>
        r => r.Ec2Action is null && r.Method == "GET" && r.Path.StartsWith($"/{bucket}/{keyPrefix}", StringComparison.Ordinal)
            && r.Range is { } range && System.Text.RegularExpressions.Regex.IsMatch(range, "^bytes=[0-9]+-[0-9]+$");

    /// <summary>An EC2 Query API request whose form body has <c>Action=</c><paramref name="action"/>.</summary>
    public static Func<ProxiedRequest, bool> Ec2(string action) => r => r.Ec2Action == action;

    /// <summary>500 InternalError (or another 5xx and code), with S3's XML error body.</summary>
    public static FaultRule S3Error(Func<ProxiedRequest, bool> matches, FaultTimes times, int status = 500, string code = "InternalError") =>
        new($"{status} {code}", matches, FaultKind.S3Error, times) { Status = status, Code = code };

    public static FaultRule SlowDown(Func<ProxiedRequest, bool> matches, FaultTimes times) => S3Error(matches, times, 503, "SlowDown");

    public static FaultRule Ec2Throttle(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("RequestLimitExceeded", matches, FaultKind.Ec2Throttle, times);

    public static FaultRule DropAnswer(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("drop answer", matches, FaultKind.DropAnswer, times);

    public static FaultRule ResetBeforeForward(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("reset before forwarding", matches, FaultKind.ResetBeforeForward, times);

    public static FaultRule DelayAnswer(Func<ProxiedRequest, bool> matches, FaultTimes times, TimeSpan delay) =>
        new($"answer {delay.TotalSeconds:0.#}s late", matches, FaultKind.DelayAnswer, times) { Delay = delay };

    /// <summary>Half the body, under the full Content-Length, then a reset (see <see cref="FaultKind.TruncateBody"/>).</summary>
    public static FaultRule TruncateBody(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("truncate body", matches, FaultKind.TruncateBody, times);

    /// <summary>Half the body under a Content-Length of that half, ended cleanly (see <see cref="FaultKind.ShortBody"/>).</summary>
    public static FaultRule ShortBody(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("short body", matches, FaultKind.ShortBody, times);

    /// <summary>moto's whole answer with one byte of the body flipped (see <see cref="FaultKind.CorruptBody"/>).</summary>
    /// <param name="objectOffset">the byte of the object to flip, when the answer is a range that holds it; null: the byte in the middle of the body.</param>
    public static FaultRule CorruptBody(Func<ProxiedRequest, bool> matches, FaultTimes times, long? objectOffset = null) =>
        new("corrupt body", matches, FaultKind.CorruptBody, times) { ObjectOffset = objectOffset };

    /// <summary>With <see cref="FaultKind.CorruptBody"/>: the byte of the object to flip; null for the middle of the body.</summary>
    public long? ObjectOffset { get; private init; }

    /// <summary>Whether a <c>Range: bytes=a-b</c> header holds the object's byte <paramref name="offset"/>.</summary>
    public static bool RangeHolds(string? range, long offset)
    {
        var match = range is null ? null : System.Text.RegularExpressions.Regex.Match(range, "^bytes=([0-9]+)-([0-9]+)$");
        return match is { Success: true }
            && long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= offset
            && offset <= long.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>moto's answer held until <see cref="Release"/> (see <see cref="FaultKind.HoldAnswer"/>); <see cref="Acted"/> completes when the first is held.</summary>
    public static FaultRule HoldAnswer(Func<ProxiedRequest, bool> matches, FaultTimes times) =>
        new("hold answer", matches, FaultKind.HoldAnswer, times);

    /// <summary>With <see cref="FaultKind.HoldAnswer"/>: completes when the test releases the held answers.</summary>
    public Task Released => _released.Task;

    /// <summary>Lets every answer held by this rule (and every later one) go to its client.</summary>
    public void Release() => _released.TrySetResult();

    /// <summary>Whether this rule acts on <paramref name="request"/>; counts the match either way.</summary>
    internal bool TryFire(ProxiedRequest request)
    {
        if (!_matches(request))
        {
            return false;
        }

        lock (_gate)
        {
            var fires = _times.Fires(_matched++);
            if (fires)
            {
                _fired++;
            }

            return fires;
        }
    }

    internal void NoteActed() => _acted.TrySetResult();

    public override string ToString() => $"{Name} ({_times})";
}
