using System.Text.Json;

namespace QueryRunner.ApiGateway;

/// <summary>
/// Reads a Lambda input as an API Gateway proxy event, telling the payload versions apart:
/// 2.0 says <c>"version": "2.0"</c>; 1.0 has <c>httpMethod</c> (REST APIs send no version, HTTP APIs send "1.0").
/// </summary>
internal static class ProxyEventReader
{
    public static async Task<ProxyEvent> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(input, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidEventException(EventMessages.NotJson, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidEventException(EventMessages.NotAnEvent);
            }

            var fallbackRequestId = Guid.NewGuid().ToString("D");
            try
            {
                if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String && version.GetString() == "2.0")
                {
                    var v2 = root.Deserialize(ApiGatewayJsonContext.Default.HttpApiV2Request) ?? throw new InvalidEventException(EventMessages.NotAnEvent);
                    return new ProxyEvent(PayloadVersion.HttpApiV2, HttpApiV2Mapper.ToApiRequest(v2, fallbackRequestId));
                }

                if (root.TryGetProperty("httpMethod", out _))
                {
                    var v1 = root.Deserialize(ApiGatewayJsonContext.Default.RestApiV1Request) ?? throw new InvalidEventException(EventMessages.NotAnEvent);
                    return new ProxyEvent(PayloadVersion.RestApiV1, RestApiV1Mapper.ToApiRequest(v1, fallbackRequestId));
                }
            }
            catch (JsonException e)
            {
                throw new InvalidEventException($"invalid event: {e.Message}", e);
            }

            throw new InvalidEventException(EventMessages.NotAnEvent);
        }
    }
}
