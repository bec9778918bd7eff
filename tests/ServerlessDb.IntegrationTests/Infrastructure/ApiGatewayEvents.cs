using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessDb.IntegrationTests.Infrastructure;

/// <summary>
/// Builds API Gateway proxy events shaped like the examples in the API Gateway developer guide, for
/// feeding the real Lambda entry point. <paramref name="query"/> arguments are raw query strings as a
/// client sends them ("q=SELECT%201&amp;timings").
/// </summary>
public static class ApiGatewayEvents
{
    private const string AccountId = "123456789012";
    private const string ApiId = "a1b2c3d4e5";
    private const string DomainName = ApiId + ".execute-api.us-east-1.amazonaws.com";
    private const string SourceIp = "192.0.2.1";
    private const string UserAgent = "ServerlessDb.IntegrationTests";

    /// <summary>An HTTP API event, payload format 2.0. A named stage appears in rawPath, as API Gateway sends it.</summary>
    public static string HttpApiV2(
        string method,
        string path,
        string? query = null,
        IReadOnlyDictionary<string, string>? headers = null,
        string? body = null,
        bool base64 = false,
        string stage = "$default",
        string? requestId = null)
    {
        var rawPath = stage == "$default" ? path : "/" + stage + path;
        var now = DateTimeOffset.UtcNow;
        var allHeaders = new JsonObject
        {
            ["accept"] = "*/*",
            ["host"] = DomainName,
            ["user-agent"] = UserAgent,
            ["x-amzn-trace-id"] = "Root=1-" + Guid.NewGuid().ToString("N")[..24],
            ["x-forwarded-for"] = SourceIp,
            ["x-forwarded-port"] = "443",
            ["x-forwarded-proto"] = "https",
        };
        if (body is not null)
        {
            allHeaders["content-length"] = Encoding.UTF8.GetByteCount(body).ToString(CultureInfo.InvariantCulture);
        }

        // HTTP API lower-cases header names and joins repeated ones with commas.
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            allHeaders[name.ToLowerInvariant()] = value;
        }

        var apiEvent = new JsonObject
        {
            ["version"] = "2.0",
            ["routeKey"] = "$default",
            ["rawPath"] = rawPath,
            ["rawQueryString"] = query ?? "",
            ["headers"] = allHeaders,
            ["requestContext"] = new JsonObject
            {
                ["accountId"] = AccountId,
                ["apiId"] = ApiId,
                ["domainName"] = DomainName,
                ["domainPrefix"] = ApiId,
                ["http"] = new JsonObject
                {
                    ["method"] = method,
                    ["path"] = rawPath,
                    ["protocol"] = "HTTP/1.1",
                    ["sourceIp"] = SourceIp,
                    ["userAgent"] = UserAgent,
                },
                ["requestId"] = requestId ?? NewRequestId(),
                ["routeKey"] = "$default",
                ["stage"] = stage,
                ["time"] = now.ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture),
                ["timeEpoch"] = now.ToUnixTimeMilliseconds(),
            },
            ["isBase64Encoded"] = base64,
        };

        // HTTP API leaves queryStringParameters and body out when there are none.
        var parameters = ParseQuery(query);
        if (parameters.Count > 0)
        {
            var joined = new JsonObject();
            foreach (var (name, values) in parameters)
            {
                joined[name] = string.Join(",", values);
            }

            apiEvent["queryStringParameters"] = joined;
        }

        if (body is not null)
        {
            apiEvent["body"] = Body(body, base64);
        }

        return apiEvent.ToJsonString();
    }

    /// <summary>A REST API proxy event, payload format 1.0: the stage is in requestContext.path but not in path.</summary>
    public static string RestApiV1(
        string method,
        string path,
        string? query = null,
        IReadOnlyDictionary<string, string>? headers = null,
        string? body = null,
        bool base64 = false,
        string stage = "prod",
        string? requestId = null)
    {
        var now = DateTimeOffset.UtcNow;
        var allHeaders = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["Accept"] = "*/*",
            ["Host"] = DomainName,
            ["User-Agent"] = UserAgent,
            ["X-Amzn-Trace-Id"] = "Root=1-" + Guid.NewGuid().ToString("N")[..24],
            ["X-Forwarded-For"] = SourceIp,
            ["X-Forwarded-Port"] = "443",
            ["X-Forwarded-Proto"] = "https",
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            allHeaders[name] = value;
        }

        var singleHeaders = new JsonObject();
        var multiHeaders = new JsonObject();
        foreach (var (name, value) in allHeaders)
        {
            singleHeaders[name] = value;
            multiHeaders[name] = new JsonArray(value);
        }

        // REST API hands parameters over decoded; null, not {}, when there are none.
        var parameters = ParseQuery(query);
        JsonObject? single = null;
        JsonObject? multi = null;
        if (parameters.Count > 0)
        {
            single = [];
            multi = [];
            foreach (var (name, values) in parameters)
            {
                single[name] = values[^1];
                multi[name] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
            }
        }

        var apiEvent = new JsonObject
        {
            ["resource"] = "/{proxy+}",
            ["path"] = path,
            ["httpMethod"] = method,
            ["headers"] = singleHeaders,
            ["multiValueHeaders"] = multiHeaders,
            ["queryStringParameters"] = single,
            ["multiValueQueryStringParameters"] = multi,
            ["pathParameters"] = new JsonObject { ["proxy"] = path.TrimStart('/') },
            ["stageVariables"] = null,
            ["requestContext"] = new JsonObject
            {
                ["accountId"] = AccountId,
                ["resourceId"] = "abc123",
                ["stage"] = stage,
                ["requestId"] = requestId ?? Guid.NewGuid().ToString("D"),
                ["extendedRequestId"] = NewRequestId(),
                ["requestTime"] = now.ToString("dd/MMM/yyyy:HH:mm:ss +0000", CultureInfo.InvariantCulture),
                ["requestTimeEpoch"] = now.ToUnixTimeMilliseconds(),
                ["identity"] = new JsonObject
                {
                    ["accessKey"] = null,
                    ["accountId"] = null,
                    ["caller"] = null,
                    ["sourceIp"] = SourceIp,
                    ["user"] = null,
                    ["userAgent"] = UserAgent,
                    ["userArn"] = null,
                },
                ["path"] = "/" + stage + path,
                ["resourcePath"] = "/{proxy+}",
                ["httpMethod"] = method,
                ["apiId"] = ApiId,
                ["protocol"] = "HTTP/1.1",
                ["domainName"] = DomainName,
                ["domainPrefix"] = ApiId,
            },
            ["body"] = body is null ? null : Body(body, base64),
            ["isBase64Encoded"] = base64,
        };
        return apiEvent.ToJsonString();
    }

    private static string Body(string body, bool base64) =>
        base64 ? Convert.ToBase64String(Encoding.UTF8.GetBytes(body)) : body;

    private static string NewRequestId() => Convert.ToBase64String(Guid.NewGuid().ToByteArray())[..16];

    private static List<(string Name, List<string> Values)> ParseQuery(string? query)
    {
        var parameters = new List<(string Name, List<string> Values)>();
        foreach (var pair in (query ?? "").Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = WebUtility.UrlDecode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : WebUtility.UrlDecode(pair[(equals + 1)..]);
            var existing = parameters.FindIndex(p => p.Name == name);
            if (existing < 0)
            {
                parameters.Add((name, [value]));
            }
            else
            {
                parameters[existing].Values.Add(value);
            }
        }

        return parameters;
    }
}
