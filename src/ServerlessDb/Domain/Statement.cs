namespace ServerlessDb.Domain;

/// <summary>
/// One statement of a request: SQL and its parameters. A parameter value is null, long, double,
/// bool, string or byte[] (a BLOB).
/// </summary>
internal sealed record Statement(string Sql, IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Named)
{
    private static readonly IReadOnlyDictionary<string, object?> NoNamed = new Dictionary<string, object?>();

    public Statement(string sql)
        : this(sql, [], NoNamed)
    {
    }
}
