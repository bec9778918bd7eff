using System.Text;

namespace Cli.Proxy;

/// <summary>
/// A client's query string rewritten so that what goes on the wire is what SigV4 signs: each name and value
/// form-decoded ('+' is a space, as the API reads it) and percent-encoded again as RFC 3986 says, in the
/// client's order, a bare flag (<c>?transaction</c>) kept bare. Clients encode spaces as '+' (axios, Python's
/// urlencode) or leave '*' and quotes raw; a signer and API Gateway would each canonicalize those their own
/// way, so the proxy sends the one form on which they all agree.
/// </summary>
internal static class CanonicalQuery
{
    public static string Rewrite(string query)
    {
        var text = query.StartsWith('?') ? query[1..] : query;
        if (text.Length == 0)
        {
            return "";
        }

        var result = new StringBuilder("?");
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (result.Length > 1)
            {
                result.Append('&');
            }

            var equals = pair.IndexOf('=');
            result.Append(Encode(equals < 0 ? pair : pair[..equals]));
            if (equals >= 0)
            {
                result.Append('=').Append(Encode(pair[(equals + 1)..]));
            }
        }

        return result.ToString();
    }

    private static string Encode(string formEncoded) => Uri.EscapeDataString(Uri.UnescapeDataString(formEncoded.Replace('+', ' ')));
}
