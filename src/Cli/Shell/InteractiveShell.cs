using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cli.Api;
using Cli.Commands;
using Cli.Output;

namespace Cli.Shell;

/// <summary>
/// The shell, as people know it from sqlite3 and rqlite: statements end with ';' and may span lines; lines
/// starting with '.' are commands (<c>.help</c> lists them). A statement's error is printed as its message and
/// the shell goes on; reading a script, the exit code is 1 when any statement failed (with --bail, at the first).
/// </summary>
internal sealed partial class InteractiveShell(CliContext context, ILineReader reader, bool bail)
{
    private static readonly string[] Levels = ["none", "weak", "strong", "linearizable", "auto"];

    private readonly DatabaseSession _session = context.Session;
    private readonly TextWriter _output = context.Output;
    private readonly TextWriter _error = context.Error;
    private OutputMode _mode = context.Mode;
    private bool _timer;
    private bool _failed;
    private CancellationToken _outer;
    private CancellationTokenSource? _current;

    /// <summary>The token of the action running now: Ctrl+C at a terminal cancels it, and the shell goes on.</summary>
    private CancellationToken Token => _current?.Token ?? _outer;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        _outer = cancellationToken;
        ConsoleCancelEventHandler interrupt = (_, e) =>
        {
            // At the prompt the line reader takes Ctrl+C as a key; here a statement or command is running.
            e.Cancel = true;
            _current?.Cancel();
        };
        if (reader.IsInteractive)
        {
            Console.CancelKeyPress += interrupt;
        }

        try
        {
            return await LoopAsync();
        }
        finally
        {
            if (reader.IsInteractive)
            {
                Console.CancelKeyPress -= interrupt;
            }
        }
    }

    private async Task<int> LoopAsync()
    {
        var cancellationToken = _outer;
        if (reader.IsInteractive)
        {
            _output.WriteLine($"serverlessdb shell: {_session.Api.BaseUrl}{(_session.Api.Signs ? " (signed)" : "")}, database '{_session.Database}'.");
            _output.WriteLine("Statements end with ';'. \".help\" lists the commands, \".exit\" leaves.");
        }

        var statement = new StringBuilder();
        while (!cancellationToken.IsCancellationRequested)
        {
            var line = reader.ReadLine(statement.Length == 0 ? Prompt() : "   ...> ");
            if (line is null)
            {
                break;
            }

            if (reader is TerminalLineReader { Interrupted: true })
            {
                statement.Clear();
                continue;
            }

            if (statement.Length == 0 && line.TrimStart().StartsWith('.'))
            {
                reader.AddHistory(line.Trim());
                if (!await DotCommandAsync(line.Trim()))
                {
                    break;
                }
            }
            else if (statement.Length > 0 || line.Trim().Length > 0)
            {
                statement.AppendLine(line);
                if (SqlText.IsComplete(statement.ToString()))
                {
                    var sql = statement.ToString().Trim();
                    statement.Clear();
                    reader.AddHistory(sql);
                    await RunSqlAsync(sql);
                }
            }

            if (_failed && bail)
            {
                break;
            }
        }

        if (statement.ToString().Trim().Length > 0 && !(_failed && bail))
        {
            // The input ended inside a statement: run it, as sqlite3 does, so its error (if any) is SQLite's.
            await RunSqlAsync(statement.ToString().Trim());
        }

        return _failed && !reader.IsInteractive ? ExitCodes.StatementError : ExitCodes.Ok;
    }

    private string Prompt() => _session.At is { } at ? $"{_session.Database}@{at.Value}> " : $"{_session.Database}> ";

    private async Task RunSqlAsync(string sql) =>
        await GuardAsync(async () =>
        {
            var clock = Stopwatch.StartNew();
            using var answer = await _session.RunScriptAsync(sql, Token);
            _failed |= AnswerPrinter.Print(answer, _mode, _output, _error);
            if (_timer)
            {
                _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Run Time: real {clock.Elapsed.TotalSeconds:0.000}"));
            }
        });

    /// <returns>false when the shell should stop (.exit).</returns>
    private async Task<bool> DotCommandAsync(string line)
    {
        var parts = SplitArguments(line);
        var name = parts[0].ToLowerInvariant();
        var argument = parts.Count > 1 ? parts[1] : null;
        switch (name)
        {
            case ".exit" or ".quit" or ".q":
                return false;
            case ".help":
                WriteHelp();
                break;
            case ".mode":
                if (argument is not null && Enum.TryParse<OutputMode>(argument, ignoreCase: true, out var mode) && Enum.IsDefined(mode))
                {
                    _mode = mode;
                }
                else
                {
                    Fail($".mode takes table, csv, json or line (now {_mode.ToString().ToLowerInvariant()}).");
                }

                break;
            case ".timer":
                if (OnOff(argument) is { } timer)
                {
                    _timer = timer;
                }
                else
                {
                    Fail(".timer takes on or off.");
                }

                break;
            case ".consistency":
                if (argument is null)
                {
                    _output.WriteLine(_session.Consistency ?? "weak");
                }
                else if (Levels.Contains(argument.ToLowerInvariant()))
                {
                    _session.Consistency = argument.ToLowerInvariant();
                }
                else
                {
                    Fail($".consistency takes {string.Join(", ", Levels)}.");
                }

                break;
            case ".tables":
                await GuardAsync(() => ListSchemaAsync(
                    "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_serverlessdb\\_%' ESCAPE '\\'",
                    argument,
                    "name",
                    "name"));
                break;
            case ".indexes" or ".indices":
                await GuardAsync(() => ListSchemaAsync(
                    "SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                    argument,
                    "tbl_name",
                    "name"));
                break;
            case ".schema":
                await GuardAsync(() => ListSchemaAsync(
                    "SELECT sql || ';' FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_serverlessdb\\_%' ESCAPE '\\'",
                    argument,
                    "tbl_name",
                    "CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, tbl_name, name"));
                break;
            case ".dump":
                await GuardAsync(async () =>
                {
                    _output.Flush();
                    await using var stdout = Console.OpenStandardOutput();
                    await _session.BackupAsync(stdout, sql: true, at: null, Token);
                });
                break;
            case ".backup":
                if (argument is null)
                {
                    Fail(".backup takes a file name: .backup FILE (the SQLite file; a name ending in .sql gets the SQL dump).");
                    break;
                }

                await GuardAsync(async () =>
                {
                    var sql = argument.EndsWith(".sql", StringComparison.OrdinalIgnoreCase);
                    long bytes;
                    await using (var file = File.Create(argument))
                    {
                        bytes = await _session.BackupAsync(file, sql, at: null, Token);
                    }

                    _output.WriteLine($"{Progress.Bytes(bytes)} written to {argument}{(_session.At is { } at ? $" ({at})" : "")}");
                });
                break;
            case ".load":
                if (argument is null)
                {
                    Fail(".load takes a file name: .load FILE (a SQLite file or an SQL dump; it replaces the database).");
                    break;
                }

                await GuardAsync(async () =>
                {
                    using var answer = await _session.LoadAsync(argument, Token);
                    var loaded = answer.RootElement.GetProperty("loaded");
                    _output.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"loaded {loaded.GetProperty("format").GetString()} into '{_session.Database}': {Progress.Bytes(loaded.GetProperty("bytes").GetInt64())}, {loaded.GetProperty("tables").GetInt64()} tables"));
                });
                break;
            case ".versions":
                await GuardAsync(async () =>
                {
                    var versions = await _session.VersionsAsync(argument is not null && int.TryParse(argument, out var n) ? n : 20, Token);
                    CliCommand.PrintList(context, "versions", versions, ["id", "time", "size", "current"]);
                });
                break;
            case ".at":
                if (argument is null)
                {
                    _output.WriteLine(_session.At is { } at ? $"reading {at}" : "reading the current version");
                }
                else if (argument.ToLowerInvariant() is "now" or "off" or "current")
                {
                    _session.At = null;
                }
                else
                {
                    await GuardAsync(() =>
                    {
                        _session.At = PointInTime.Parse(argument);
                        _output.WriteLine($"reading {_session.At} (read-only; \".at now\" goes back)");
                        return Task.CompletedTask;
                    });
                }

                break;
            case ".restore":
                if (argument is null)
                {
                    Fail(".restore takes a time (RFC 3339) or a version id, as .versions lists them.");
                    break;
                }

                await GuardAsync(async () =>
                {
                    var point = PointInTime.Parse(argument);
                    if (reader.IsInteractive)
                    {
                        var answer = reader.ReadLine(
                            $"Restore database '{_session.Database}' to {point}? Its content becomes a new current version; the version now current stays in the history and can be restored back. [y/N] ");
                        if (answer?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                        {
                            _output.WriteLine("Not restored.");
                            return;
                        }
                    }

                    using var restored = await _session.RestoreAsync(point, Token);
                    _output.WriteLine($"restored {restored.RootElement.GetProperty("restored").GetString()} as the new version {restored.RootElement.GetProperty("version").GetString()}");
                });
                break;
            case ".databases":
                await GuardAsync(async () =>
                    CliCommand.PrintList(context, "databases", await _session.DatabasesAsync(100_000, Token), ["name", "size", "last_modified"]));
                break;
            case ".use":
                if (argument is null || !DatabaseName().IsMatch(argument))
                {
                    Fail(".use takes a database name: letters, digits, '_' and '-', 1 to 64 of them.");
                }
                else
                {
                    _session.Database = argument;
                    _session.At = null;
                }

                break;
            default:
                Fail($"Unknown command '{parts[0]}'. \".help\" lists the commands.");
                break;
        }

        _output.Flush();
        return true;
    }

    private async Task ListSchemaAsync(string select, string? table, string tableColumn, string orderBy)
    {
        var sql = select + (table is null ? "" : $" AND {tableColumn} = ? COLLATE NOCASE") + $" ORDER BY {orderBy}";
        JsonNode?[] parameters = table is null ? [] : [JsonValue.Create(table)];
        using var answer = await _session.RunStatementAsync(sql, parameters, write: false, transaction: false, Token);
        foreach (var result in QueryResult.ListFrom(answer.RootElement))
        {
            if (result.Error is { } error)
            {
                Fail(error);
                continue;
            }

            foreach (var row in result.Rows)
            {
                _output.WriteLine(row[0].GetString());
            }
        }
    }

    /// <summary>Runs one shell action; a failure is printed as its message (never a stack trace), and the shell goes on.</summary>
    private async Task GuardAsync(Func<Task> action)
    {
        using var current = CancellationTokenSource.CreateLinkedTokenSource(_outer);
        _current = current;
        try
        {
            await action();
        }
        catch (CliException e)
        {
            Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            Fail("interrupted");
        }
        catch (HttpRequestException e)
        {
            Fail($"the connection to {_session.Api.BaseUrl} failed: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Fail(e.Message);
        }
        finally
        {
            _current = null;
        }
    }

    private void Fail(string message)
    {
        _error.WriteLine($"Error: {message}");
        _error.Flush();
        _failed = true;
    }

    private void WriteHelp()
    {
        _output.WriteLine("""
            .at TIME|VERSION         read a past version (time travel; read-only); .at now goes back
            .backup FILE             the SQLite file (FILE.sql: the SQL dump) of the version being read
            .consistency LEVEL       none, weak (default), strong, linearizable or auto
            .databases               the databases in the store
            .dump                    the database as SQL (rqlite's dump)
            .exit                    leave (Ctrl+D too)
            .help                    this list
            .indexes [TABLE]         the indexes, of one table or all
            .load FILE               replace the database with a SQLite file or an SQL dump
            .mode MODE               table (default), csv, json or line
            .restore TIME|VERSION    make a past version current (a new version; asks first)
            .schema [TABLE]          the CREATE statements, of one table or all
            .tables                  the tables and views
            .timer on|off            print each statement's time
            .use NAME                switch to another database
            .versions [N]            the N newest kept versions (20)
            """);
    }

    private static bool? OnOff(string? text) => text?.ToLowerInvariant() switch
    {
        "on" or "yes" or "1" or "true" => true,
        "off" or "no" or "0" or "false" => false,
        _ => null,
    };

    /// <summary>Splits a dot-command into its words; single or double quotes keep spaces in one argument (a file name).</summary>
    private static List<string> SplitArguments(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        foreach (var c in line)
        {
            if (quote is { } q)
            {
                if (c == q)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    words.Add(current.ToString());
                    current.Clear();
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0)
        {
            words.Add(current.ToString());
        }

        return words;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex DatabaseName();
}
