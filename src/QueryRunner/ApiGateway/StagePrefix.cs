namespace QueryRunner.ApiGateway;

/// <summary>
/// Removes the "/{stage}" that API Gateway leaves at the start of the path for a named stage
/// (the execute-api URL of an HTTP API's named stage, or a 1.0 event that carries it), so routes see "/db/query".
/// </summary>
internal static class StagePrefix
{
    public const string DefaultStage = "$default";

    public static string Strip(string? path, string? stage)
    {
        var normalized = string.IsNullOrEmpty(path) ? "/" : path[0] == '/' ? path : "/" + path;
        if (string.IsNullOrEmpty(stage) || stage == DefaultStage)
        {
            return normalized;
        }

        var prefix = "/" + stage;
        if (normalized == prefix)
        {
            return "/";
        }

        return normalized.StartsWith(prefix + "/", StringComparison.Ordinal) ? normalized[prefix.Length..] : normalized;
    }
}
