using ServerlessDb.Domain;

namespace ServerlessDb.Storage;

/// <summary>
/// The databases a store holds, listed in name order a page at a time. Apart from <see cref="IDatabaseStore"/>
/// because only the catalog route needs it, and every store's listing is a different call (S3's
/// ListObjectsV2, a folder's files).
/// </summary>
internal interface IDatabaseCatalog
{
    /// <summary>
    /// Up to <paramref name="limit"/> databases whose names sort after <paramref name="after"/> (ordinal; from
    /// the first when null), in name order. <see cref="DatabasePage.Next"/> is set when more may follow.
    /// </summary>
    /// <exception cref="Errors.StorageUnavailableException">the store did not answer within its retry deadline.</exception>
    Task<DatabasePage> ListAsync(string? after, int limit, CancellationToken cancellationToken);
}
