using System.Text.Json;
using ServerlessDb.Api;

namespace QueryRunner.ApiGateway;

/// <summary>Writes an <see cref="ApiResponse"/> as the proxy response of the payload version the event came in.</summary>
internal static class ProxyResponseWriter
{
    public static Stream Write(PayloadVersion version, ApiResponse response)
    {
        var output = new MemoryStream();
        if (version == PayloadVersion.HttpApiV2)
        {
            JsonSerializer.Serialize(output, HttpApiV2Mapper.ToResponse(response), ApiGatewayJsonContext.Default.HttpApiV2Response);
        }
        else
        {
            JsonSerializer.Serialize(output, RestApiV1Mapper.ToResponse(response), ApiGatewayJsonContext.Default.RestApiV1Response);
        }

        output.Position = 0;
        return output;
    }
}
