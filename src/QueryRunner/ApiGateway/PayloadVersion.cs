namespace QueryRunner.ApiGateway;

/// <summary>Which API Gateway proxy payload an event came in, so the response goes back in the same one.</summary>
internal enum PayloadVersion
{
    RestApiV1,
    HttpApiV2,
}
