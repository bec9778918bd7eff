using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessDb.UnitTests.QueryRunner;

/// <summary>
/// The API Gateway events under Events/: http-api-v2.json, http-api-v1.json (the HTTP API payload
/// examples of the API Gateway developer guide), rest-api-proxy.json (the REST API proxy example event),
/// and http-api-v2-named-stage.json (the 2.0 example reshaped as a real call of ours: named stage,
/// IAM authorizer, base64 body, flags in the query string).
/// </summary>
internal static class SampleEvents
{
    public const string HttpApiV2 = "http-api-v2.json";
    public const string HttpApiV2NamedStage = "http-api-v2-named-stage.json";
    public const string HttpApiV1 = "http-api-v1.json";
    public const string RestApiProxy = "rest-api-proxy.json";

    public static string Text(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "QueryRunner", "Events", name));

    public static JsonObject Json(string name) => JsonNode.Parse(Text(name))!.AsObject();

    public static Stream Open(string name) => Stream(Text(name));

    public static Stream Stream(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    public static Stream Stream(JsonNode json) => Stream(json.ToJsonString());
}
