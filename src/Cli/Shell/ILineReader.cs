namespace Cli.Shell;

/// <summary>Where the shell's lines come from: a terminal (prompt, editing, history) or a script on stdin.</summary>
internal interface ILineReader : IDisposable
{
    /// <summary>Whether a person is typing: prompts are shown and confirmations asked.</summary>
    bool IsInteractive { get; }

    /// <summary>The next line, or null at the end of input (Ctrl+D at an empty prompt).</summary>
    string? ReadLine(string prompt);

    /// <summary>Remembers a complete entry for the up arrow and in the history file.</summary>
    void AddHistory(string entry);
}
