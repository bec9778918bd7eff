namespace ServerlessDb.Protocol;

/// <summary>
/// One statement of a request: SQL and its parameters. A parameter value is null, long, double,
/// bool, string or byte[] (a BLOB).
/// </summary>
public sealed record Statement(string Sql, IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Named)
{
    private static readonly IReadOnlyDictionary<string, object?> NoNamed = new Dictionary<string, object?>();

    public Statement(string sql)
        : this(sql, [], NoNamed)
    {
    }

    public bool HasParameters => Positional.Count > 0 || Named.Count > 0;
}
