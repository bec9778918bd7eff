namespace Cli;

/// <summary>A failure the tool reports as one line (never a stack trace) and turns into <see cref="ExitCode"/>.</summary>
internal sealed class CliException(int exitCode, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public int ExitCode { get; } = exitCode;
}
