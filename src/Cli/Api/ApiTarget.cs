using System.Net;
using System.Text.RegularExpressions;

namespace Cli.Api;

/// <summary>Where requests go and whether they are signed: the API's base URL, the signing decision and, when signing, the region and profile.</summary>
internal sealed partial record ApiTarget(Uri BaseUrl, bool Sign, string? Region, string? Profile)
{
    public const string DefaultUrl = "http://127.0.0.1:4001";

    /// <summary>
    /// <c>auto</c> signs unless the host is this machine (the local server needs no auth); <c>always</c> and
    /// <c>never</c> say it outright (a custom domain in front of the API, a verifier in tests).
    /// </summary>
    public static bool ShouldSign(Uri url, string mode) => mode switch
    {
        "always" => true,
        "never" => false,
        _ => !IsLoopback(url),
    };

    /// <summary>The region in an API Gateway host name (<c>ID.execute-api.REGION.amazonaws.com</c>), if it is one.</summary>
    public static string? RegionOf(Uri url) =>
        ExecuteApiHost().Match(url.Host) is { Success: true } match ? match.Groups["region"].Value : null;

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    [GeneratedRegex(@"^[a-z0-9]+\.execute-api\.(?<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ExecuteApiHost();
}
