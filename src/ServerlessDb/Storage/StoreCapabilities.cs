namespace ServerlessDb.Storage;

/// <summary>
/// What a store offers beyond <see cref="IDatabaseStore"/>, each null where its backend cannot. Chosen once,
/// where the store is built (the composition root, which knows the backend), and handed to the engine, which
/// never asks a store what else it is.
/// </summary>
/// <param name="Catalog">the databases it holds (<c>GET /db/databases</c>).</param>
/// <param name="History">the versions it keeps (time travel, restore).</param>
/// <param name="Staging">a place for uploads too large for one request (staged loads).</param>
/// <param name="Links">time-limited links that clients fetch directly (backups past the response limit).</param>
/// <param name="InPlaceWrites">writes that run on a large database in place, without a local copy (lazy reads on, chunked layout).</param>
internal sealed record StoreCapabilities(
    IDatabaseCatalog? Catalog = null,
    IDatabaseHistory? History = null,
    IDatabaseStaging? Staging = null,
    IDatabaseLinks? Links = null,
    IInPlaceWrites? InPlaceWrites = null)
{
    public static StoreCapabilities None { get; } = new();
}
