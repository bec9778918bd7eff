namespace ServerlessDb.Logging;

/// <summary>Writes log lines to standard output.</summary>
public sealed class ConsoleLogSink : ILogSink
{
    public static ConsoleLogSink Instance { get; } = new();

    public void Write(string jsonLine) => Console.Out.WriteLine(jsonLine);
}
