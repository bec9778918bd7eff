using Cli.Commands;

namespace Cli;

internal static class Program
{
    public static Task<int> Main(string[] args) => CliCommand.InvokeAsync(args, Console.In, Console.Out, Console.Error, TimeProvider.System);
}
