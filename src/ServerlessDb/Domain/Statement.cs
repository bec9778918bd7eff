using ServerlessDb.Errors;

namespace ServerlessDb.Domain;

/// <summary>
/// One statement of a request: SQL and its parameters. A parameter value is null, long, double,
/// bool, string or byte[] (a BLOB).
/// </summary>
/// <exception cref="BadRequestException">the SQL contains a NUL character: SQLite would silently ignore what follows it.</exception>
internal sealed record Statement(string Sql, IReadOnlyList<object?> Positional, IReadOnlyDictionary<string, object?> Named)
{
    private static readonly IReadOnlyDictionary<string, object?> NoNamed = new Dictionary<string, object?>();

    public string Sql { get; } = Sql.Contains('\0', StringComparison.Ordinal)
        ? throw new BadRequestException(RequestMessages.NulInSql)
        : Sql;

    public Statement(string sql)
        : this(sql, [], NoNamed)
    {
    }
}
