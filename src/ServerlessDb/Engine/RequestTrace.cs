using System.Diagnostics;

namespace ServerlessDb.Engine;

/// <summary>
/// What one request did and how long each phase took (classify, fetch, lock, execute, upload);
/// the API writes it as the request's log line.
/// </summary>
internal sealed class RequestTrace
{
    private readonly Dictionary<string, double> _phaseMilliseconds = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> PhaseMilliseconds => _phaseMilliseconds;

    /// <summary>"read" or "write", once decided.</summary>
    public string? Path { get; set; }

    /// <summary>How many times the write ran (more than one after conflicting commits).</summary>
    public int Attempts { get; set; }

    public bool Committed { get; set; }

    public string? VersionRead { get; set; }

    public string? VersionWritten { get; set; }

    public PhaseTimer Phase(string name) => new(this, name);

    private void Add(string phase, double milliseconds) =>
        _phaseMilliseconds[phase] = _phaseMilliseconds.GetValueOrDefault(phase) + milliseconds;

    /// <summary>Adds the time until it is disposed to its phase.</summary>
    public readonly struct PhaseTimer(RequestTrace trace, string phase) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();

        public void Dispose() => trace.Add(phase, Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
    }
}
