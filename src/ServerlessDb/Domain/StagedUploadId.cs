namespace ServerlessDb.Domain;

/// <summary>The ids of staged uploads: 32 lower-case hex digits, so an id can never name another key or path.</summary>
internal static class StagedUploadId
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsValid(string id) => id.Length == 32 && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
