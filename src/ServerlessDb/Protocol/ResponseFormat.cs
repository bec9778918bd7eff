namespace ServerlessDb.Protocol;

/// <summary>How results are written: rqlite's flags, and whether the request came through /db/request.</summary>
public sealed record ResponseFormat(bool Associative, bool Pretty, bool Timings, bool Unified)
{
    public static ResponseFormat For(RequestFlags flags, Endpoint endpoint) =>
        new(flags.Associative, flags.Pretty, flags.Timings, endpoint == Endpoint.Request);
}
