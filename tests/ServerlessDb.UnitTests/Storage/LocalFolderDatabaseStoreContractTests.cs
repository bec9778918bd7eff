using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The store contract over the local folder: each "process" opens its own backend on the one data folder, as two local servers would.</summary>
public sealed class LocalFolderDatabaseStoreContractTests : DatabaseStoreContract
{
    private protected override (IObjectBackend Objects, IObjectLinks? Links) OpenObjects() =>
        (new LocalFolderObjectBackend(Path.Combine(Root, "data")), null);
}
