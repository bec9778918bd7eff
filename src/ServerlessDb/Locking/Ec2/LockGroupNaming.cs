using System.Globalization;

namespace ServerlessDb.Locking.Ec2;

/// <summary>
/// How a lock security group is named and tagged: shared by the lock, which creates the groups,
/// and the reaper, which finds and judges them.
/// </summary>
internal static class LockGroupNaming
{
    /// <summary>Tag holding the creation time in Unix seconds (UTC), decimal.</summary>
    public const string CreateTimeTagKey = "CreateTime";

    /// <summary>Tag naming who holds the lock (the request id).</summary>
    public const string HolderTagKey = "Holder";

    /// <summary>The name of the lock group of <paramref name="database"/>: <c>{prefix}{database}</c>.</summary>
    public static string GroupName(string prefix, string database) => prefix + database;

    /// <summary>
    /// The <c>group-name</c> filter value that matches every lock group of <paramref name="prefix"/>.
    /// EC2 filters treat <c>*</c> and <c>?</c> as wildcards and <c>\</c> as their escape, so those are escaped in the prefix.
    /// </summary>
    public static string GroupNameFilter(string prefix) =>
        prefix.Replace(@"\", @"\\", StringComparison.Ordinal)
            .Replace("*", @"\*", StringComparison.Ordinal)
            .Replace("?", @"\?", StringComparison.Ordinal) + "*";

    /// <summary>The database a lock group belongs to, or null when <paramref name="groupName"/> is not a lock group of <paramref name="prefix"/>.</summary>
    public static string? DatabaseOf(string prefix, string groupName) =>
        groupName.Length > prefix.Length && groupName.StartsWith(prefix, StringComparison.Ordinal) ? groupName[prefix.Length..] : null;

    public static string Description(string database) => $"ServerlessDb write lock of database {database}";

    /// <summary>The tags a lock group is created with.</summary>
    public static IReadOnlyDictionary<string, string> Tags(DateTimeOffset createdAt, string holder) =>
        new Dictionary<string, string>
        {
            [CreateTimeTagKey] = FormatCreateTime(createdAt),
            [HolderTagKey] = holder,
        };

    public static string FormatCreateTime(DateTimeOffset createdAt) =>
        createdAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads the CreateTime tag; false when it is missing or not whole Unix seconds.</summary>
    public static bool TryParseCreateTime(IReadOnlyDictionary<string, string> tags, out DateTimeOffset createdAt)
    {
        createdAt = default;
        if (!tags.TryGetValue(CreateTimeTagKey, out var raw)
            || !long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        createdAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
