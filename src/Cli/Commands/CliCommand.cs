using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cli.Api;
using Cli.Output;

namespace Cli.Commands;

/// <summary>The command line of <c>serverlessdb</c> (<c>--help</c> lists it): the shell, the commands for scripts, the proxy and the console.</summary>
internal static class CliCommand
{
    public static async Task<int> InvokeAsync(string[] args, TextReader input, TextWriter output, TextWriter error, TimeProvider time)
    {
        var options = new CliOptions();
        var root = new RootCommand(
            "serverlessdb: a shell and commands for ServerlessDb, the local server or the deployed API (requests to it signed " +
            "with SigV4 from the AWS credential chain), a signing proxy for rqlite clients, and a web console. " +
            "Without a command it opens the shell.");
        foreach (var option in options.All)
        {
            root.Options.Add(option);
        }

        var shell = ShellCommands.Create(options, input, output, error, time);
        root.Subcommands.Add(shell.Command);
        root.SetAction(shell.Action);
        root.Subcommands.Add(Query(options, output, error, time, write: false));
        root.Subcommands.Add(Query(options, output, error, time, write: true));
        root.Subcommands.Add(Backup(options, output, error, time));
        root.Subcommands.Add(Load(options, output, error, time));
        root.Subcommands.Add(Versions(options, output, error, time));
        root.Subcommands.Add(Restore(options, output, error, time));
        root.Subcommands.Add(Databases(options, output, error, time));
        foreach (var command in ProxyCommands.Create(options, output, error, time))
        {
            root.Subcommands.Add(command);
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors)
            {
                error.WriteLine(problem.Message);
            }

            error.WriteLine("Try 'serverlessdb --help'.");
            return ExitCodes.Usage;
        }

        // The shell at a terminal handles Ctrl+C itself (it stops the running statement, not the shell); every
        // other command is cancelled by it through System.CommandLine, and cleans up (a partial backup file).
        var interactiveShell = (parsed.CommandResult.Command == root || parsed.CommandResult.Command == shell.Command) && !Console.IsInputRedirected;
        return await parsed.InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = error,
            ProcessTerminationTimeout = interactiveShell ? null : TimeSpan.FromSeconds(5),
        });
    }

    /// <summary>Runs a command body with a context, turning every <see cref="CliException"/> into its message and exit code.</summary>
    public static async Task<int> RunAsync(
        ParseResult parsed, CliOptions options, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken,
        Func<CliContext, Task<int>> body)
    {
        try
        {
            using var context = await CliContext.CreateAsync(parsed, options, output, error, time, cancellationToken);
            return await body(context);
        }
        catch (CliException e)
        {
            error.WriteLine($"serverlessdb: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error.WriteLine("serverlessdb: interrupted.");
            return 130;
        }
        catch (HttpRequestException e)
        {
            // The connection failed after the answer began (a backup cut off mid-stream).
            error.WriteLine($"serverlessdb: the connection failed: {e.Message}");
            return ExitCodes.Network;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"serverlessdb: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (System.Text.Json.JsonException e)
        {
            error.WriteLine($"serverlessdb: the API's answer is not what it should be: {e.Message}");
            return ExitCodes.ServiceError;
        }
    }

    private static Command Query(CliOptions options, TextWriter output, TextWriter error, TimeProvider time, bool write)
    {
        var sql = new Argument<string>("sql") { Description = write ? "The statement; '-' reads a script of statements from stdin" : "The statement (a read)" };
        var parameters = new Option<string[]>("--param", "-p")
        {
            Description = "A parameter for the next '?' or ':name' ... in order: JSON (42, 1.5, true, null, \"text\", [104,105] for a BLOB) or else text",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command(write ? "execute" : "query", write
            ? "Run a write (POST /db/execute): prints the rows affected; with '-' runs stdin as a script (POST /sql)"
            : "Run a read (POST /db/query): prints the rows; a write is refused")
        {
            sql, parameters,
        };
        var transaction = new Option<bool>("--transaction") { Description = "All or nothing: the first failing statement rolls the request back" };
        var at = new Option<string?>("--at") { Description = "Read a past version: an RFC 3339 time or a version id (time travel)" };
        if (write)
        {
            command.Options.Add(transaction);
        }
        else
        {
            command.Options.Add(at);
        }

        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            var text = parsed.GetValue(sql)!;
            if (!write && parsed.GetValue(at) is { } point)
            {
                context.Session.At = PointInTime.Parse(point);
            }

            using var answer = write && text == "-"
                ? await context.Session.RunScriptAsync(await Console.In.ReadToEndAsync(cancellationToken), cancellationToken)
                : await context.Session.RunStatementAsync(
                    text, (parsed.GetValue(parameters) ?? []).Select(ParseParameter).ToList(), write, parsed.GetValue(transaction), cancellationToken);
            return PrintAnswer(context, answer);
        }));
        return command;
    }

    private static Command Backup(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        var file = new Option<string>("--output", "-o") { Description = "Where to write the backup ('-' for stdout)", Required = true };
        var sql = new Option<bool>("--sql") { Description = "rqlite's SQL dump instead of the SQLite file" };
        var at = new Option<string?>("--as-of", "--at") { Description = "Back up a past version: an RFC 3339 time or a version id" };
        var command = new Command("backup", "Download the database (GET /db/backup): the SQLite file or its SQL dump, streamed, of now or of a past version") { file, sql, at };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            var path = parsed.GetValue(file)!;
            var point = parsed.GetValue(at) is { } text ? PointInTime.Parse(text) : null;
            if (path == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await context.Session.BackupAsync(stdout, parsed.GetValue(sql), point, cancellationToken);
                return ExitCodes.Ok;
            }

            long bytes;
            // Written beside the target and renamed at the end, so a failed backup never leaves half a file under its name.
            var partial = path + ".partial";
            try
            {
                await using (var destination = File.Create(partial))
                {
                    bytes = await context.Session.BackupAsync(destination, parsed.GetValue(sql), point, cancellationToken);
                }

                File.Move(partial, path, overwrite: true);
            }
            finally
            {
                File.Delete(partial);
            }

            WriteJsonOrText(context, new JsonObject { ["file"] = path, ["bytes"] = bytes, ["database"] = context.Session.Database },
                $"{Progress.Bytes(bytes)} written to {path}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Load(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        var file = new Argument<string>("file") { Description = "A SQLite database file or an SQL dump; it replaces the database" };
        var command = new Command("load", "Replace the database with a SQLite file or an SQL dump (POST /db/load; large files staged in S3 first)") { file };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            using var answer = await context.Session.LoadAsync(parsed.GetValue(file)!, cancellationToken);
            var loaded = answer.RootElement.TryGetProperty("loaded", out var l) ? l : default;
            WriteJsonOrText(context, JsonNode.Parse(answer.RootElement.GetRawText())!, loaded.ValueKind == JsonValueKind.Object
                ? string.Create(CultureInfo.InvariantCulture, $"loaded {loaded.GetProperty("format").GetString()} into '{context.Session.Database}': {Progress.Bytes(loaded.GetProperty("bytes").GetInt64())}, {loaded.GetProperty("tables").GetInt64()} tables, version {loaded.GetProperty("version").GetString()}")
                : $"loaded into '{context.Session.Database}'");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Versions(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        var limit = new Option<int>("--limit") { Description = "At most this many versions (newest first)", DefaultValueFactory = _ => 100 };
        var command = new Command("versions", "List the kept versions of the database, newest first (GET /db/versions)") { limit };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            var versions = await context.Session.VersionsAsync(Math.Max(1, parsed.GetValue(limit)), cancellationToken);
            PrintList(context, "versions", versions, ["id", "time", "size", "current"]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Restore(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        var point = new Argument<string>("time-or-version") { Description = "An RFC 3339 time (the version current then) or a version id" };
        var command = new Command("restore", "Make a past version's content current, as a new version (POST /db/restore); the replaced version stays in the history") { point };
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            using var answer = await context.Session.RestoreAsync(PointInTime.Parse(parsed.GetValue(point)!), cancellationToken);
            WriteJsonOrText(context, JsonNode.Parse(answer.RootElement.GetRawText())!,
                $"restored {answer.RootElement.GetProperty("restored").GetString()} as the new version {answer.RootElement.GetProperty("version").GetString()} of '{context.Session.Database}'");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Databases(CliOptions options, TextWriter output, TextWriter error, TimeProvider time)
    {
        var command = new Command("databases", "List the databases in the store (GET /db/databases)");
        command.SetAction((parsed, cancellationToken) => RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
        {
            PrintList(context, "databases", await context.Session.DatabasesAsync(100_000, cancellationToken), ["name", "size", "last_modified"]);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static int PrintAnswer(CliContext context, JsonDocument answer)
    {
        if (context.Json)
        {
            context.Output.WriteLine(answer.RootElement.GetRawText());
            return QueryResult.ListFrom(answer.RootElement).Any(r => r.Error is not null) ? ExitCodes.StatementError : ExitCodes.Ok;
        }

        return AnswerPrinter.Print(answer, context.Mode, context.Output, context.Error) ? ExitCodes.StatementError : ExitCodes.Ok;
    }

    /// <summary>A list answer (versions, databases) as a table, or with --json as <c>{"NAME": [...]}</c>.</summary>
    public static void PrintList(CliContext context, string name, IReadOnlyList<JsonElement> items, string[] columns)
    {
        if (context.Json)
        {
            context.Output.WriteLine(new JsonObject { [name] = new JsonArray(items.Select(i => JsonNode.Parse(i.GetRawText())).ToArray()) }.ToJsonString());
            return;
        }

        ResultWriter.WriteTable(
            columns,
            items.Select(item => (IReadOnlyList<string>)columns.Select(c => item.TryGetProperty(c, out var v) ? ResultWriter.Text(v, null) : "").ToList()).ToList(),
            context.Output);
    }

    private static void WriteJsonOrText(CliContext context, JsonNode json, string text) =>
        context.Output.WriteLine(context.Json ? json.ToJsonString() : text);

    /// <summary>A --param value: JSON when it parses (numbers, booleans, null, quoted text, a byte array), else the text itself.</summary>
    public static JsonNode? ParseParameter(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
