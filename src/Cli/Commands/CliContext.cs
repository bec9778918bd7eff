using System.CommandLine;
using Cli.Api;
using Cli.Output;

namespace Cli.Commands;

/// <summary>What a command runs with: the API client on the resolved target, the database session, where to print and how.</summary>
internal sealed class CliContext(ApiClient api, DatabaseSession session, TextWriter output, TextWriter error, bool json, OutputMode mode) : IDisposable
{
    public ApiClient Api => api;

    public DatabaseSession Session => session;

    public TextWriter Output => output;

    public TextWriter Error => error;

    public bool Json => json;

    public OutputMode Mode => mode;

    /// <summary>Resolves the target (URL from --url, SERVERLESSDB_URL, --stack or the local default; signing; region; profile).</summary>
    public static async Task<CliContext> CreateAsync(
        ParseResult parsed, CliOptions options, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        var target = await ResolveTargetAsync(parsed, options, cancellationToken);
        var api = new ApiClient(target, time);
        return new CliContext(api, new DatabaseSession(api, parsed.GetValue(options.Database)!), output, error, parsed.GetValue(options.Json), parsed.GetValue(options.Mode));
    }

    public static async Task<ApiTarget> ResolveTargetAsync(ParseResult parsed, CliOptions options, CancellationToken cancellationToken)
    {
        var profile = parsed.GetValue(options.Profile);
        var region = parsed.GetValue(options.Region);
        var stack = parsed.GetValue(options.Stack) ?? NonEmpty(Environment.GetEnvironmentVariable("SERVERLESSDB_STACK"));
        var urlText = parsed.GetValue(options.Url) ?? NonEmpty(Environment.GetEnvironmentVariable("SERVERLESSDB_URL"));
        Uri url;
        if (urlText is not null)
        {
            if (!Uri.TryCreate(urlText, UriKind.Absolute, out var parsedUrl) || (parsedUrl.Scheme != Uri.UriSchemeHttp && parsedUrl.Scheme != Uri.UriSchemeHttps))
            {
                throw new CliException(ExitCodes.Usage, $"--url must be an absolute http or https URL; got '{urlText}'.");
            }

            url = parsedUrl;
        }
        else if (stack is not null)
        {
            url = await StackOutputs.ApiUrlAsync(stack, profile, region, cancellationToken);
        }
        else
        {
            url = new Uri(ApiTarget.DefaultUrl);
        }

        // A base URL with a path (a custom domain's mapping) keeps it: requests append to it.
        if (!url.AbsolutePath.EndsWith('/'))
        {
            url = new Uri(url + "/");
        }

        return new ApiTarget(url, ApiTarget.ShouldSign(url, parsed.GetValue(options.Sign)!), region, profile);
    }

    public void Dispose() => api.Dispose();

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;
}
