using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Storage;

namespace ServerlessDb.IntegrationTests;

/// <summary>The object backend contract against <see cref="S3ObjectBackend"/> on moto_server, a bucket per test, with the client the functions build.</summary>
[Collection(MotoCollection.Name)]
public sealed class S3ObjectBackendContractTests(MotoServerFixture moto) : ObjectBackendContract
{
    private protected override async Task<IObjectBackend> CreateBackendAsync() =>
        new S3ObjectBackend(S3ClientFactory.Create(new S3ClientOptions(MotoServerFixture.Region, moto.EndpointUrl, TimeSpan.FromSeconds(10))), await moto.CreateBucketAsync());
}
