using ServerlessDb.Api;

namespace QueryRunner.ApiGateway;

/// <summary>A recognized event: the plain request, and the payload version to answer in.</summary>
internal sealed record ProxyEvent(PayloadVersion Version, ApiRequest Request);
