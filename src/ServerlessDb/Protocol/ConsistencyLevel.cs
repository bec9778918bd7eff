namespace ServerlessDb.Protocol;

/// <summary>rqlite's read consistency levels. Here every level but <see cref="None"/> revalidates with storage.</summary>
public enum ConsistencyLevel
{
    None,
    Weak,
    Strong,
    Linearizable,
    Auto,
}
