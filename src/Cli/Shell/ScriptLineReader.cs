namespace Cli.Shell;

/// <summary>Lines from a script on stdin (or any reader): no prompt, no history, as sqlite3 reads a piped script.</summary>
internal sealed class ScriptLineReader(TextReader input) : ILineReader
{
    public bool IsInteractive => false;

    public string? ReadLine(string prompt) => input.ReadLine();

    public void AddHistory(string entry)
    {
    }

    public void Dispose()
    {
    }
}
