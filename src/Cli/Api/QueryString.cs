using System.Text;

namespace Cli.Api;

/// <summary>Builds a path with its query string: values escaped, a null value written as a bare flag (<c>?transaction</c>), empty names and values left out.</summary>
internal static class QueryString
{
    public static string Of(string path, params (string Name, string? Value)[] parameters)
    {
        var text = new StringBuilder(path);
        var separator = '?';
        foreach (var (name, value) in parameters)
        {
            if (name.Length == 0 || value is { Length: 0 })
            {
                continue;
            }

            text.Append(separator).Append(Uri.EscapeDataString(name));
            if (value is not null)
            {
                text.Append('=').Append(Uri.EscapeDataString(value));
            }

            separator = '&';
        }

        return text.ToString();
    }
}
