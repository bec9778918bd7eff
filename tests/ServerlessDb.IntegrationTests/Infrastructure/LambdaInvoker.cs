using System.Text;
using System.Text.Json;
using QueryRunner;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>Calls the QueryRunner entry point the way the Lambda runtime does (a stream in, a stream out) and parses the answer.</summary>
public sealed class LambdaInvoker(Function function)
{
    public async Task<LambdaResponse> InvokeAsync(string eventJson)
    {
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(eventJson));
        await using var output = await function.HandleAsync(input);
        using var document = await JsonDocument.ParseAsync(output);
        var root = document.RootElement;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (root.TryGetProperty("headers", out var single) && single.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in single.EnumerateObject())
            {
                headers[header.Name] = header.Value.GetString() ?? "";
            }
        }

        // As API Gateway does for payload 1.0: multiValueHeaders wins over headers for the same name.
        if (root.TryGetProperty("multiValueHeaders", out var multi) && multi.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in multi.EnumerateObject())
            {
                headers[header.Name] = string.Join(",", header.Value.EnumerateArray().Select(v => v.GetString()));
            }
        }

        var isBase64 = root.TryGetProperty("isBase64Encoded", out var flag) && flag.GetBoolean();
        var body = root.TryGetProperty("body", out var text) ? text.GetString() ?? "" : "";
        var bytes = isBase64 ? Convert.FromBase64String(body) : Encoding.UTF8.GetBytes(body);
        return new LambdaResponse(root.GetProperty("statusCode").GetInt32(), headers, Encoding.UTF8.GetString(bytes), isBase64, bytes);
    }
}
