using System.CommandLine;

namespace Cli.Commands;

internal static class ProxyCommands
{
    public static IEnumerable<Command> Create(CliOptions options, TextWriter output, TextWriter error, TimeProvider time) => [];
}
