namespace ServerlessDb.Domain;

/// <summary>The query-string options of a request (rqlite's, plus <c>db</c>).</summary>
internal sealed record RequestFlags
{
    public const string DefaultDatabase = "default";

    public string Database { get; init; } = DefaultDatabase;

    /// <summary>Stop at the first failing statement and roll the whole request back.</summary>
    public bool Transaction { get; init; }

    public bool Timings { get; init; }

    public bool Associative { get; init; }

    public bool Pretty { get; init; }

    public ConsistencyLevel Level { get; init; } = ConsistencyLevel.Weak;

    /// <summary>With level none: how old a validated cached copy may be and still be served.</summary>
    public TimeSpan? Freshness { get; init; }

    /// <summary>How long one statement may run.</summary>
    public TimeSpan? StatementTimeout { get; init; }

    /// <summary>The old version to read instead of the current one (<c>as_of</c>, <c>version</c>); null for the current version.</summary>
    public PointInTime? At { get; init; }

    /// <summary>How stale a cached copy a read may use without asking storage; null means always revalidate.</summary>
    public TimeSpan? MaxStaleness => Level == ConsistencyLevel.None ? Freshness ?? TimeSpan.MaxValue : null;
}

/// <summary>rqlite's read consistency levels. Here every level but <see cref="None"/> revalidates with storage.</summary>
internal enum ConsistencyLevel
{
    None,
    Weak,
    Strong,
    Linearizable,
    Auto,
}
