namespace ServerlessDb.Storage;

/// <summary>One page of a listing: its keys, and the token of the next page (null on the last).</summary>
internal sealed record ObjectListing(IReadOnlyList<string> Keys, string? NextContinuation);
