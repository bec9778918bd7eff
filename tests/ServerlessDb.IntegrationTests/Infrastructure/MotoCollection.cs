namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>Tests marked <c>[Collection(MotoCollection.Name)]</c> share one moto_server for the whole run.</summary>
[CollectionDefinition(Name)]
public sealed class MotoCollection : ICollectionFixture<MotoServerFixture>
{
    public const string Name = "moto";
}
