using System.Text.RegularExpressions;

namespace ServerlessDb.Storage;

/// <summary>What a database name may be: <c>[A-Za-z0-9_-]{1,64}</c>, safe as a file name and as an S3 key part.</summary>
public static partial class DatabaseName
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Pattern();
}
