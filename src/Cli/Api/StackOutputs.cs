using System.ComponentModel;
using System.Diagnostics;

namespace Cli.Api;

/// <summary>
/// The API URL from a deployed stack's <c>ApiUrl</c> output. Read with the AWS CLI
/// (<c>aws cloudformation describe-stacks</c>), with the same --profile and --region: the AWSSDK.CloudFormation
/// package is not available to this build, and whoever deploys a stack has the AWS CLI.
/// </summary>
internal static class StackOutputs
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static async Task<Uri> ApiUrlAsync(string stack, string? profile, string? region, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("aws")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["cloudformation", "describe-stacks", "--stack-name", stack,
                     "--query", "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue", "--output", "text"])
        {
            start.ArgumentList.Add(argument);
        }

        if (profile is not null)
        {
            start.ArgumentList.Add("--profile");
            start.ArgumentList.Add(profile);
        }

        if (region is not null)
        {
            start.ArgumentList.Add("--region");
            start.ArgumentList.Add(region);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("aws did not start");
        }
        catch (Win32Exception e)
        {
            throw new CliException(ExitCodes.Usage, $"--stack {stack} reads the stack's ApiUrl output with the AWS CLI, which could not be started ({e.Message}); install it or pass --url.", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Deadline);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new CliException(ExitCodes.Network, $"aws cloudformation describe-stacks --stack-name {stack} did not finish within {Deadline.TotalSeconds:0} s.");
            }

            var text = (await output).Trim();
            if (process.ExitCode != 0 || !Uri.TryCreate(text, UriKind.Absolute, out var url))
            {
                throw new CliException(
                    ExitCodes.Usage,
                    $"Cannot read the ApiUrl output of stack '{stack}': {(process.ExitCode != 0 ? (await error).Trim() : $"the output is '{text}'")}");
            }

            return url;
        }
    }
}
