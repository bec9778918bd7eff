namespace QueryRunner.ApiGateway;

/// <summary>The plain messages of the entry point's own 400 and 500 answers, together in one place.</summary>
internal static class EventMessages
{
    public const string NotJson = "invalid event: not JSON";
    public const string NotAnEvent = "invalid event: expected an API Gateway proxy event (HTTP API payload 2.0 or REST API payload 1.0)";
    public const string MissingV2Fields = "invalid event: a payload 2.0 event needs requestContext.http.method and rawPath";
    public const string MissingV1Fields = "invalid event: a payload 1.0 event needs httpMethod and path";
    public const string BodyNotBase64 = "invalid event: isBase64Encoded is true but the body is not base64";
    public const string InternalErrorJson = """{"error":"internal error"}""";
}
