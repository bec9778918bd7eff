using System.CommandLine;
using Cli.Output;

namespace Cli.Commands;

/// <summary>The options every command takes (where the API is, how to sign, which database, how to print).</summary>
internal sealed class CliOptions
{
    public Option<string?> Url { get; } = new("--url")
    {
        Description = "The API's base URL; default SERVERLESSDB_URL, else the stack's ApiUrl (--stack), else http://127.0.0.1:4001 (the local server)",
        Recursive = true,
    };

    public Option<string?> Stack { get; } = new("--stack")
    {
        Description = "Read the URL from this CloudFormation stack's ApiUrl output (with the AWS CLI); default SERVERLESSDB_STACK",
        Recursive = true,
    };

    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "AWS profile to sign with, as the AWS CLI's --profile; default AWS_PROFILE, else the default credential chain",
        Recursive = true,
    };

    public Option<string?> Region { get; } = new("--region")
    {
        Description = "AWS region to sign for; default the region in an execute-api URL, else AWS_REGION, else the profile's",
        Recursive = true,
    };

    public Option<string> Sign { get; } = new("--sign")
    {
        Description = "Sign requests with SigV4 (execute-api): auto signs unless the URL is this machine",
        DefaultValueFactory = _ => "auto",
        Recursive = true,
    };

    public Option<string> Database { get; } = new("--db", "-d")
    {
        Description = "The database; default SERVERLESSDB_DB, else 'default'",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SERVERLESSDB_DB") is { Length: > 0 } db ? db : "default",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's JSON answer instead of a table (for scripts)",
        Recursive = true,
    };

    public Option<OutputMode> Mode { get; } = new("--mode")
    {
        Description = "How rows are printed: table, csv, json or line",
        DefaultValueFactory = _ => OutputMode.Table,
        Recursive = true,
    };

    public CliOptions()
    {
        Sign.AcceptOnlyFromAmong("auto", "always", "never");
    }

    public IEnumerable<Option> All => [Url, Stack, Profile, Region, Sign, Database, Json, Mode];
}
