namespace QueryRunner.ApiGateway;

/// <summary><c>requestContext.http</c> of a payload 2.0 event.</summary>
internal sealed record HttpApiV2HttpDescription(string? Method, string? Path);
