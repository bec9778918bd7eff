using System.Text;
using System.Text.Json;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// Parses rqlite request bodies: a JSON array whose elements are SQL strings or
/// <c>[sql, p1, p2, ...]</c> / <c>[sql, {"name": value}]</c> arrays. Throws
/// <see cref="BadRequestException"/> with rqlite's messages for anything else.
/// </summary>
internal static class StatementParser
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
                throw new BadRequestException(RequestMessages.NoStatements);
            }

            if (count > maxStatements)
            {
                throw new BadRequestException(RequestMessages.TooManyStatements(maxStatements));
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
            throw new BadRequestException(RequestMessages.NoStatements);
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
            throw new BadRequestException(ProtocolMessages.InvalidUtf8Body);
        }
    }

    private static Statement ParseStatement(JsonElement element, int index)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return new Statement(ReadString(element, $"the SQL of statement {index}"));
            case JsonValueKind.Array:
                break;
            default:
                throw new BadRequestException(ProtocolMessages.InvalidRequest);
        }

        var parts = element.EnumerateArray().ToList();
        if (parts.Count == 0)
        {
            throw new BadRequestException(RequestMessages.NoStatements);
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
                    var name = ReadName(property, $"a parameter name of statement {index}");
                    named[name] = ParseValue(property.Value, $"'{name}' of statement {index}");
                }
            }
            else
            {
                positional.Add(ParseValue(parts[i], $"{i} of statement {index}"));
            }
        }

        return new Statement(ReadString(parts[0], $"the SQL of statement {index}"), positional, named);
    }

    private static object? ParseValue(JsonElement value, string where) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => ReadString(value, $"parameter {where}"),
        JsonValueKind.Number => ParseNumber(value, where),
        JsonValueKind.Array => ParseBlob(value, where),
        _ => throw new BadRequestException(ProtocolMessages.UnsupportedParameter(where)),
    };

    private static object ParseNumber(JsonElement value, string where)
    {
        if (value.TryGetInt64(out var integer))
        {
            return integer;
        }

        // A number no double can hold (1e400) reads as infinity; silently storing that would change the data.
        return value.TryGetDouble(out var real) && double.IsFinite(real)
            ? real
            : throw new BadRequestException(ProtocolMessages.NumberOutOfRange(where));
    }

    // A JSON string can hold what no .NET or SQLite string can: invalid UTF-8 bytes, or an escaped
    // lone surrogate ("\ud800"). Reading it throws InvalidOperationException; that is the client's error.
    private static string ReadString(JsonElement value, string where)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new BadRequestException(ProtocolMessages.InvalidText(where));
        }
    }

    private static string ReadName(JsonProperty property, string where)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw new BadRequestException(ProtocolMessages.InvalidText(where));
        }
    }

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
