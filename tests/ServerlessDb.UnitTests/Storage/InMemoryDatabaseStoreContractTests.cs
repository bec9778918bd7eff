using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The store contract over the in-memory backend: every "process" shares the one bucket in memory, which has no links.</summary>
public sealed class InMemoryDatabaseStoreContractTests : DatabaseStoreContract
{
    private readonly InMemoryObjectBackend _bucket = new();

    private protected override (IObjectBackend Objects, IObjectLinks? Links) OpenObjects() => (_bucket, null);
}
