namespace QueryRunner.ApiGateway;

internal sealed record RestApiV1RequestContext(string? RequestId, string? Stage);
