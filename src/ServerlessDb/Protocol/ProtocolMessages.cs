namespace ServerlessDb.Protocol;

/// <summary>The messages users see for malformed requests; rqlite's wording where rqlite has one.</summary>
public static class ProtocolMessages
{
    public const string InvalidJson = "invalid JSON body";
    public const string InvalidRequest = "invalid request";
    public const string UnsupportedType = "unsupported type";
    public const string InvalidUtf8Body = "request body is not valid UTF-8";
    public const string MissingQuery = "missing q parameter: GET /db/query needs ?q=SQL";

    public static string InvalidDatabaseName(string name) =>
        $"invalid database name '{name}': use 1 to 64 letters, digits, '_' or '-'";

    public static string InvalidLimit(string value, int max) =>
        $"invalid limit '{(value.Length > 40 ? value[..40] + "..." : value)}': use a whole number from 1 to {max}";

    public static string InvalidPageToken(string value) =>
        $"invalid next '{value}': pass back the next value a previous page answered";

    public const string VacuumNotSupported = "vacuum is not supported: a backup is the stored file as it is";

    public static string UnsupportedBackupFormat(string value) =>
        $"unsupported backup format '{value}': use fmt=binary (the default) or fmt=sql";

    public static string BackupTooLarge(long size, long maxBytes) =>
        $"backup too large: {size} bytes, the limit of an inline answer is {maxBytes}; ask for the binary backup without compress, which is answered with a redirect to storage";

    public static string InvalidStagedId(string value) =>
        $"invalid staged upload id '{value}': use the id POST /db/load/upload answered (32 hex digits)";

    public const string StagedLoadWithBody = "a load with staged=ID takes the file from the staging area: send no body";

    public static string UnrecognizedLevel(string value) =>
        $"unrecognized consistency level '{value}': use none, weak, strong, linearizable or auto";

    public static string InvalidDuration(string flag, string value) =>
        $"invalid {flag} '{value}': use a duration such as 500ms, 5s or 1m";

    public static string UnsupportedParameter(string where) =>
        $"unsupported type for parameter {where}: use a number, string, boolean, null or an array of bytes (0-255)";

    public static string InvalidText(string where) =>
        $"invalid text in {where}: it is not valid UTF-8 or has a lone surrogate escape such as \\ud800";

    public static string NumberOutOfRange(string where) =>
        $"number out of range for parameter {where}: use at most a 64-bit integer or a finite double";

    public static string DurationOutOfRange(string flag, string value) =>
        $"invalid {flag} '{value}': too long a duration";

    public static string ResponseTooLarge(long size, int maxBytes) =>
        $"response too large: {size} bytes as Lambda returns it, the limit is {maxBytes}; select fewer rows or columns (LIMIT/OFFSET)";

    public static string RequestTooLarge(int size, int maxBytes) =>
        $"request too large: {size} bytes, the limit is {maxBytes}";

    public static string InvalidIdempotencyKey(int maxLength) =>
        $"invalid Idempotency-Key header: it must be 1 to {maxLength} characters";
}
