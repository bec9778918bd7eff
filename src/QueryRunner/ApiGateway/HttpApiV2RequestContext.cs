namespace QueryRunner.ApiGateway;

internal sealed record HttpApiV2RequestContext(string? RequestId, string? Stage, HttpApiV2HttpDescription? Http);
