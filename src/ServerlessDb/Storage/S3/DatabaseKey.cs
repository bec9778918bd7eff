namespace ServerlessDb.Storage.S3;

/// <summary>Where database NAME lives in the bucket: <c>{prefix}{NAME}.sqlite</c>.</summary>
public static class DatabaseKey
{
    public static string For(string prefix, string database) => prefix + database + ".sqlite";
}
