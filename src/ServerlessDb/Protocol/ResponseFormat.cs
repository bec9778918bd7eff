using ServerlessDb.Domain;

namespace ServerlessDb.Protocol;

/// <summary>How results are written: rqlite's flags, and whether the request came through /db/request.</summary>
internal sealed record ResponseFormat(bool Associative, bool Pretty, bool Timings, bool Unified)
{
    public static ResponseFormat For(RequestFlags flags, RequestKind kind) =>
        new(flags.Associative, flags.Pretty, flags.Timings, kind == RequestKind.Request);
}
