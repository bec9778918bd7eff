namespace ServerlessDb.Domain;

/// <summary>What a database name may be: <c>[A-Za-z0-9_-]{1,64}</c>, safe as a file name and as an S3 key part.</summary>
internal static class DatabaseName
{
    public const int MaxLength = 64;

    /// <summary>Checks every character; no regex, whose <c>$</c> would let a final newline through.</summary>
    public static bool IsValid(string name) =>
        name.Length is >= 1 and <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
