using ServerlessDb.IntegrationTests.Infrastructure;
using ServerlessDb.Storage;
using ServerlessDb.Storage.S3;
using ServerlessDb.UnitTests.Storage;

namespace ServerlessDb.IntegrationTests;

/// <summary>
/// The object backend contract against <see cref="S3ObjectBackend"/> on moto_server, a versioned bucket per test (as the
/// template deploys it), with the client the functions build, over moto's plain HTTP (so uploads are signed, as the
/// backend does for a local S3).
/// </summary>
[Collection(MotoCollection.Name)]
public sealed class S3ObjectBackendContractTests(MotoServerFixture moto) : ObjectBackendContract
{
    // moto 5.2 lists a key's deletion markers after its versions, reads an unknown version id marker as none, and stores
    // the CRC32 a put sends without checking it against the bytes.
    private protected override BackendQuirks Quirks =>
        BackendQuirks.DeleteMarkersListedAfterVersions | BackendQuirks.UnknownVersionIdMarkerAccepted | BackendQuirks.ChecksumNotVerified;

    private protected override async Task<IObjectBackend> CreateBackendAsync() =>
        new S3ObjectBackend(
            S3ClientFactory.Create(new S3ClientOptions(MotoServerFixture.Region, moto.EndpointUrl, TimeSpan.FromSeconds(10))),
            await moto.CreateVersionedBucketAsync(),
            overTls: false);
}
