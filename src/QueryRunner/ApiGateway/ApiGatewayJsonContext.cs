using System.Text.Json.Serialization;

namespace QueryRunner.ApiGateway;

/// <summary>Source-generated (de)serializers for the event and response shapes: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HttpApiV2Request))]
[JsonSerializable(typeof(HttpApiV2Response))]
[JsonSerializable(typeof(RestApiV1Request))]
[JsonSerializable(typeof(RestApiV1Response))]
internal sealed partial class ApiGatewayJsonContext : JsonSerializerContext;
