namespace ServerlessDb.Errors;

/// <summary>
/// A stored database object is not a whole SQLite file (HTTP 500 with this message, logged as an
/// error): it was not cached, served or written on top of, and stays as it is until someone restores
/// a good version.
/// </summary>
internal sealed class DatabaseCorruptException : ServerlessDbException
{
    /// <param name="database">the database name.</param>
    /// <param name="source">where the object is and which version, e.g. <c>s3://bucket/key, version "etag"</c>.</param>
    /// <param name="reason">what is wrong with it.</param>
    public DatabaseCorruptException(string database, string source, string reason, Exception? innerException = null)
        : base(
            $"Database '{database}' ({source}) is not a valid SQLite database: {reason}. Nothing was changed; restore a good version of the object.",
            innerException)
    {
    }
}
