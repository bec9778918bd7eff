using System.CommandLine;
using Cli.Shell;

namespace Cli.Commands;

/// <summary>The shell: <c>serverlessdb</c> alone or <c>serverlessdb shell</c>; a terminal gets the line editor, a script on stdin is read as it is.</summary>
internal static class ShellCommands
{
    public static (Command Command, Func<ParseResult, CancellationToken, Task<int>> Action) Create(
        CliOptions options, TextReader input, TextWriter output, TextWriter error, TimeProvider time)
    {
        var bail = new Option<bool>("--bail") { Description = "Reading a script: stop at the first error" };
        var command = new Command("shell", "The interactive shell (also what serverlessdb runs without a command); reads a script from stdin when piped") { bail };
        Func<ParseResult, CancellationToken, Task<int>> action = (parsed, cancellationToken) =>
            CliCommand.RunAsync(parsed, options, output, error, time, cancellationToken, async context =>
            {
                using ILineReader reader = Console.IsInputRedirected || !ReferenceEquals(input, Console.In)
                    ? new ScriptLineReader(input)
                    : new TerminalLineReader();
                return await new InteractiveShell(context, reader, parsed.GetValue(bail)).RunAsync(cancellationToken);
            });
        command.SetAction(action);
        return (command, action);
    }
}
