namespace ServerlessDb.Domain;

/// <summary>Which rqlite endpoint a request came through; it decides how statements are treated.</summary>
internal enum RequestKind
{
    /// <summary><c>/db/execute</c>: statements are writes (reads among them run and return no rows unless they produce columns).</summary>
    Execute,

    /// <summary><c>/db/query</c>: statements are reads; a write is refused per statement.</summary>
    Query,

    /// <summary><c>/db/request</c> and <c>/sql</c>: reads and writes, decided per request.</summary>
    Request,
}
