namespace ServerlessDb.Logging;

/// <summary>Where structured log lines (<see cref="LogLine"/>) go: stdout in Lambda, where CloudWatch picks them up.</summary>
public interface ILogSink
{
    /// <summary>Writes one complete JSON object as one line.</summary>
    void Write(string jsonLine);
}

/// <summary>Writes log lines to standard output.</summary>
public sealed class ConsoleLogSink : ILogSink
{
    public static ConsoleLogSink Instance { get; } = new();

    public void Write(string jsonLine) => Console.Out.WriteLine(jsonLine);
}

/// <summary>Writes log lines to a text writer (the local server's console, or a test's buffer), one at a time.</summary>
public sealed class TextWriterLogSink(TextWriter writer) : ILogSink
{
    private readonly TextWriter _writer = TextWriter.Synchronized(writer);

    public void Write(string jsonLine) => _writer.WriteLine(jsonLine);
}
