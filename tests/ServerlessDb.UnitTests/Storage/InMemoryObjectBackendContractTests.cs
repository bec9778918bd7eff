using ServerlessDb.Storage;
using ServerlessDb.UnitTests.Support;

namespace ServerlessDb.UnitTests.Storage;

/// <summary>The object backend contract against the in-memory backend the lock's and reaper's tests stand on.</summary>
public sealed class InMemoryObjectBackendContractTests : ObjectBackendContract
{
    private protected override Task<IObjectBackend> CreateBackendAsync() => Task.FromResult<IObjectBackend>(new InMemoryObjectBackend());
}
