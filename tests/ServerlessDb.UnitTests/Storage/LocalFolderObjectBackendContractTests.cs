using ServerlessDb.Storage;
using ServerlessDb.Storage.LocalFolder;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The object backend contract against the local folder, in a temporary folder of each test's own, deleted after it.</summary>
public sealed class LocalFolderObjectBackendContractTests : ObjectBackendContract, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("serverlessdb-local-backend-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private protected override Task<IObjectBackend> CreateBackendAsync() => Task.FromResult<IObjectBackend>(new LocalFolderObjectBackend(_folder));
}
