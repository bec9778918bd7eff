namespace Cli;

/// <summary>What a command's exit code says happened; README's "The serverlessdb tool" lists them for scripts.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A statement failed (its error is in the results), or the API refused the request as malformed (400).</summary>
    public const int StatementError = 1;

    /// <summary>The command line was wrong: an unknown option, a missing argument, a bad value.</summary>
    public const int Usage = 2;

    /// <summary>No AWS credentials were found, or the API refused them (401, 403).</summary>
    public const int Auth = 3;

    /// <summary>The API could not be reached: refused connection, unknown host, TLS failure, timeout.</summary>
    public const int Network = 4;

    /// <summary>The API answered with another error: 404 (an unknown version), 409, 413, 5xx.</summary>
    public const int ServiceError = 5;
}
