using System.Text;
using System.Text.Json;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Parses rqlite request bodies: a JSON array whose elements are SQL strings or
/// <c>[sql, p1, p2, ...]</c> / <c>[sql, {"name": value}]</c> arrays. Throws
/// <see cref="BadRequestException"/> with rqlite's messages for anything else.
/// </summary>
public static class StatementParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    public static IReadOnlyList<Statement> ParseJson(ReadOnlyMemory<byte> body, int maxStatements)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException)
        {
            throw new BadRequestException(ProtocolMessages.InvalidJson);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new BadRequestException(ProtocolMessages.InvalidRequest);
            }

            var count = root.GetArrayLength();
            if (count == 0)
            {
                throw new BadRequestException(ProtocolMessages.NoStatements);
            }

            if (count > maxStatements)
            {
                throw new BadRequestException(ProtocolMessages.TooManyStatements(maxStatements));
            }

            var statements = new List<Statement>(count);
            var index = 0;
            foreach (var element in root.EnumerateArray())
            {
                index++;
                statements.Add(ParseStatement(element, index));
            }

            return statements;
        }
    }

    /// <summary>A <c>text/plain</c> body is one statement, without parameters.</summary>
    public static IReadOnlyList<Statement> ParsePlainText(ReadOnlyMemory<byte> body)
    {
        var sql = DecodeUtf8(body);
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new BadRequestException(ProtocolMessages.NoStatements);
        }

        return [new Statement(sql)];
    }

    public static string DecodeUtf8(ReadOnlyMemory<byte> body)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            throw new BadRequestException("request body is not valid UTF-8");
        }
    }

    private static Statement ParseStatement(JsonElement element, int index)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return new Statement(element.GetString()!);
            case JsonValueKind.Array:
                break;
            default:
                throw new BadRequestException(ProtocolMessages.InvalidRequest);
        }

        var parts = element.EnumerateArray().ToList();
        if (parts.Count == 0)
        {
            throw new BadRequestException(ProtocolMessages.NoStatements);
        }

        if (parts[0].ValueKind != JsonValueKind.String)
        {
            throw new BadRequestException(ProtocolMessages.InvalidRequest);
        }

        var positional = new List<object?>();
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 1; i < parts.Count; i++)
        {
            if (parts[i].ValueKind == JsonValueKind.Object)
            {
                foreach (var property in parts[i].EnumerateObject())
                {
                    named[property.Name] = ParseValue(property.Value, $"'{property.Name}' of statement {index}");
                }
            }
            else
            {
                positional.Add(ParseValue(parts[i], $"{i} of statement {index}"));
            }
        }

        return new Statement(parts[0].GetString()!, positional, named);
    }

    private static object? ParseValue(JsonElement value, string where) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.TryGetInt64(out var integer) ? (object)integer : value.GetDouble(),
        JsonValueKind.Array => ParseBlob(value, where),
        _ => throw new BadRequestException(ProtocolMessages.UnsupportedParameter(where)),
    };

    private static byte[] ParseBlob(JsonElement array, string where)
    {
        var bytes = new byte[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetByte(out var b))
            {
                throw new BadRequestException(ProtocolMessages.UnsupportedParameter(where));
            }

            bytes[i++] = b;
        }

        return bytes;
    }
}
