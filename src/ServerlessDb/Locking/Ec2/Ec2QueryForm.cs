using System.Text;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// The form body of an EC2 Query API request, written as botocore writes it: <c>Action</c> and
/// <c>Version</c> first, then the parameters in the order they were added, each name and value
/// encoded like Python's <c>urllib.parse.quote_plus</c> (what botocore's <c>urlencode</c> uses).
/// </summary>
internal sealed class Ec2QueryForm
{
    public const string ApiVersion = "2016-11-15";

    private readonly List<KeyValuePair<string, string>> _parameters = [];

    public Ec2QueryForm(string action)
    {
        Action = action;
        Add("Action", action);
        Add("Version", ApiVersion);
    }

    public string Action { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters => _parameters;

    public Ec2QueryForm Add(string name, string value)
    {
        _parameters.Add(new(name, value));
        return this;
    }

    /// <summary>Adds <c>TagSpecification.1</c> for <paramref name="resourceType"/>; tags in the dictionary's order.</summary>
    public Ec2QueryForm AddTagSpecification(string resourceType, IReadOnlyDictionary<string, string> tags)
    {
        if (tags.Count == 0)
        {
            return this;
        }

        Add("TagSpecification.1.ResourceType", resourceType);
        var i = 1;
        foreach (var (key, value) in tags)
        {
            Add($"TagSpecification.1.Tag.{i}.Key", key);
            Add($"TagSpecification.1.Tag.{i}.Value", value);
            i++;
        }

        return this;
    }

    public Ec2QueryForm AddFilters(IReadOnlyList<Ec2Filter> filters)
    {
        for (var f = 0; f < filters.Count; f++)
        {
            Add($"Filter.{f + 1}.Name", filters[f].Name);
            for (var v = 0; v < filters[f].Values.Count; v++)
            {
                Add($"Filter.{f + 1}.Value.{v + 1}", filters[f].Values[v]);
            }
        }

        return this;
    }

    public string Encode() => string.Join('&', _parameters.Select(p => QuotePlus(p.Key) + "=" + QuotePlus(p.Value)));

    // quote_plus keeps ASCII letters, digits and "_.-~", turns a space into '+', and percent-encodes
    // every other UTF-8 byte in upper-case hex. Uri.EscapeDataString and WebUtility.UrlEncode differ
    // from it (space, '!', '*', '(', ')'), which would change the signed body.
    internal static string QuotePlus(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'.' or (byte)'-' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else if (b == (byte)' ')
            {
                builder.Append('+');
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}
