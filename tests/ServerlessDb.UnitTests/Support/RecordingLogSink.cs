using System.Collections.Concurrent;
using ServerlessDb.Logging;

namespace ServerlessDb.UnitTests.Support;

/// <summary>Keeps log lines so tests can assert on them.</summary>
public sealed class RecordingLogSink : ILogSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public void Write(string jsonLine) => _lines.Enqueue(jsonLine);
}
