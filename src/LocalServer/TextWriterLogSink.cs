using ServerlessDb.Logging;

namespace LocalServer;

/// <summary>Writes the API's log lines to a text writer (the console, or a test's buffer), one at a time.</summary>
internal sealed class TextWriterLogSink(TextWriter writer) : ILogSink
{
    private readonly TextWriter _writer = TextWriter.Synchronized(writer);

    public void Write(string jsonLine) => _writer.WriteLine(jsonLine);
}
