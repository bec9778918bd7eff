using System.Text;

namespace Cli.Shell;

/// <summary>
/// Lines typed at a terminal, edited in place: left and right, Home and End (Ctrl+A, Ctrl+E), Backspace and
/// Delete, Ctrl+U to clear, up and down through the history, Ctrl+C to drop what was typed, Ctrl+D on an
/// empty line to leave. The history is kept in ~/.serverlessdb_history (SERVERLESSDB_HISTORY), 1,000 entries.
/// </summary>
internal sealed class TerminalLineReader : ILineReader
{
    private const int HistoryKept = 1000;

    private readonly List<string> _history = [];
    private readonly string? _historyFile;

    public TerminalLineReader()
    {
        _historyFile = Environment.GetEnvironmentVariable("SERVERLESSDB_HISTORY") is { Length: > 0 } file
            ? file
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".serverlessdb_history") : null;
        try
        {
            if (_historyFile is not null && File.Exists(_historyFile))
            {
                _history.AddRange(File.ReadAllLines(_historyFile).Where(l => l.Length > 0).TakeLast(HistoryKept));
            }
        }
        catch (IOException)
        {
            // An unreadable history starts empty; the shell works without it.
        }
    }

    public bool IsInteractive => true;

    /// <summary>Set when the last line ended with Ctrl+C: the shell drops the statement it was collecting.</summary>
    public bool Interrupted { get; private set; }

    public string? ReadLine(string prompt)
    {
        Interrupted = false;
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        var treatControlC = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try
        {
            Console.Write(prompt);
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                var control = (key.Modifiers & ConsoleModifiers.Control) != 0;
                switch (key.Key)
                {
                    case ConsoleKey.Enter:
                        Console.Write("\r\n");
                        return line.ToString();
                    case ConsoleKey.C when control:
                        Console.Write("^C\r\n");
                        Interrupted = true;
                        return "";
                    case ConsoleKey.D when control:
                        if (line.Length == 0)
                        {
                            Console.Write("\r\n");
                            return null;
                        }

                        if (cursor < line.Length)
                        {
                            line.Remove(cursor, 1);
                        }

                        break;
                    case ConsoleKey.Backspace:
                        if (cursor > 0)
                        {
                            line.Remove(--cursor, 1);
                        }

                        break;
                    case ConsoleKey.Delete:
                        if (cursor < line.Length)
                        {
                            line.Remove(cursor, 1);
                        }

                        break;
                    case ConsoleKey.LeftArrow:
                    case ConsoleKey.B when control:
                        cursor = Math.Max(0, cursor - 1);
                        break;
                    case ConsoleKey.RightArrow:
                    case ConsoleKey.F when control:
                        cursor = Math.Min(line.Length, cursor + 1);
                        break;
                    case ConsoleKey.Home:
                    case ConsoleKey.A when control:
                        cursor = 0;
                        break;
                    case ConsoleKey.End:
                    case ConsoleKey.E when control:
                        cursor = line.Length;
                        break;
                    case ConsoleKey.U when control:
                        line.Clear();
                        cursor = 0;
                        break;
                    case ConsoleKey.UpArrow:
                    case ConsoleKey.P when control:
                        if (historyIndex > 0)
                        {
                            historyIndex--;
                            line.Clear().Append(_history[historyIndex]);
                            cursor = line.Length;
                        }

                        break;
                    case ConsoleKey.DownArrow:
                    case ConsoleKey.N when control:
                        if (historyIndex < _history.Count)
                        {
                            historyIndex++;
                            line.Clear().Append(historyIndex < _history.Count ? _history[historyIndex] : "");
                            cursor = line.Length;
                        }

                        break;
                    default:
                        if (key.KeyChar == '\t')
                        {
                            line.Insert(cursor++, "    ");
                            cursor += 3;
                        }
                        else if (!char.IsControl(key.KeyChar) && key.KeyChar != '\0')
                        {
                            line.Insert(cursor++, key.KeyChar);
                            if (cursor == line.Length)
                            {
                                // Typing at the end (and pasting) needs no redraw.
                                Console.Write(key.KeyChar);
                                continue;
                            }
                        }

                        break;
                }

                Redraw(prompt, line, cursor);
            }
        }
        finally
        {
            Console.TreatControlCAsInput = treatControlC;
        }
    }

    public void AddHistory(string entry)
    {
        var flat = entry.ReplaceLineEndings(" ").Trim();
        if (flat.Length == 0 || (_history.Count > 0 && _history[^1] == flat))
        {
            return;
        }

        _history.Add(flat);
        if (_history.Count > HistoryKept)
        {
            _history.RemoveAt(0);
        }

        try
        {
            if (_historyFile is not null)
            {
                File.WriteAllLines(_historyFile, _history);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A history that cannot be written is lost for the next session; this one goes on.
        }
    }

    public void Dispose()
    {
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor)
    {
        var text = line.ToString();
        Console.Write("\r" + prompt + text + "\x1b[K");
        if (cursor < text.Length)
        {
            Console.Write($"\x1b[{text.Length - cursor}D");
        }
    }
}
