using System.Net;

namespace QueryRunner.ApiGateway;

/// <summary>Parses a raw query string as Go's url.ParseQuery does, which is what rqlite clients expect.</summary>
internal static class QueryStringParser
{
    /// <summary>
    /// Splits on '&amp;', then on the first '='; a name without '=' is a flag and maps to "".
    /// Names and values are percent-decoded with '+' as a space. The first occurrence of a name
    /// wins, as Go's <c>Query().Get</c> does.
    /// </summary>
    public static Dictionary<string, string> Parse(string? rawQueryString)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(rawQueryString))
        {
            return query;
        }

        foreach (var pair in rawQueryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = WebUtility.UrlDecode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? string.Empty : WebUtility.UrlDecode(pair[(equals + 1)..]);
            if (name.Length > 0)
            {
                query.TryAdd(name, value);
            }
        }

        return query;
    }
}
