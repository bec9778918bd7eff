using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Storage;

namespace ServerlessDb.IntegrationTests;

/// <summary>The store contract over S3 on moto_server: a versioned bucket per test, as the template deploys it, reached with the client the functions build.</summary>
[Collection(MotoCollection.Name)]
public sealed class S3DatabaseStoreContractTests : DatabaseStoreContract, IAsyncLifetime
{
    private readonly MotoServerFixture _moto;
    private string? _bucket;

    public S3DatabaseStoreContractTests(MotoServerFixture moto) => _moto = moto;

    public async Task InitializeAsync() => _bucket = await _moto.CreateVersionedBucketAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private protected override (IObjectBackend Objects, IObjectLinks? Links) OpenObjects()
    {
        var bucket = new S3ObjectBackend(S3ClientFactory.Create(new S3ClientOptions(MotoServerFixture.Region, _moto.EndpointUrl, TimeSpan.FromSeconds(10))), _bucket!, overTls: false);
        return (bucket, bucket);
    }
}
